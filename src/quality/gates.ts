import type { DuckDBConnection } from '@duckdb/node-api';
import { baselineKind, type Contract, type OnFail } from '../specs/contract-schema';
import { freshnessCheck, profileAccepted, segmentVolumeChecks, uniquenessCheck } from './data-gates';
import { distributionChecks } from './distribution-gate';
import { buildGateReport, type GateCheck, type GateReport, type IngestStats } from './gate-report';
import { parquetRelation } from './sql';
import {
  completenessChecks,
  reconciliationChecks,
  referentialIntegrityChecks,
  rejectRateCheck,
  volumeCheck,
} from './stats-gates';
import { volumeBySegmentChecks } from './volume-by-segment';

export interface BaselineBatch {
  batchId: string;
  rowsAccepted: number;
  /** Parquet files of its accepted rows. */
  files: string[];
}

export interface GateInput {
  conn: DuckDBConnection;
  contract: Contract;
  batchId: string;
  /** Parquet files of the accepted rows; empty when ingestion accepted nothing. */
  acceptedFiles: string[];
  stats: IngestStats;
  /**
   * The published batches the volume gates compare with, newest first: the last `lookback` runs, or
   * the same weekday of the last `lookback` weeks (baselineKind).
   */
  loadBaseline: (lookback: number) => Promise<BaselineBatch[]>;
  /** Parquet files of the last published batch, the baseline of the distribution gate. */
  referenceFiles?: string[];
  asOf: Date;
}

/**
 * Runs every configured gate over a batch before it is published. Reconciliation always runs; any other gate
 * runs only when the contract configures it (referential integrity: when it declares references).
 * Data gates are SQL over the accepted Parquet; freshness and uniqueness share one scan.
 */
export async function evaluateGates(input: GateInput): Promise<GateReport> {
  const { conn, contract, stats, asOf } = input;
  const gates = contract.gates;
  const accepted = parquetRelation(input.acceptedFiles, contract.columns);
  const checks: GateCheck[] = [...reconciliationChecks(stats)];

  if (gates.completeness)
    checks.push(...asking(gates.completeness, completenessChecks(gates.completeness, contract, stats)));
  const baselineName = (batches: readonly BaselineBatch[]) => describeBaseline(contract, input.batchId, batches.length);
  if (gates.volume) {
    const baseline = await input.loadBaseline(gates.volume.lookback);
    const history = baseline.map((b) => b.rowsAccepted);
    checks.push(...asking(gates.volume, [volumeCheck(gates.volume, stats, history, baselineName(baseline))]));
  }
  for (const gate of gates.volumeBySegment ?? []) {
    const baseline = await input.loadBaseline(gate.lookback);
    const relations = baseline.map((b) => ({
      batchId: b.batchId,
      relation: parquetRelation(b.files, contract.columns),
    }));
    checks.push(...asking(gate, await volumeBySegmentChecks(conn, gate, accepted, relations, baselineName(baseline))));
  }
  if (gates.segmentVolume)
    checks.push(
      ...asking(gates.segmentVolume, await segmentVolumeChecks(conn, accepted, gates.segmentVolume, contract)),
    );
  if (gates.freshness || gates.uniqueness) {
    const profile = await profileAccepted(conn, accepted, contract, asOf);
    if (gates.freshness) checks.push(...asking(gates.freshness, [freshnessCheck(gates.freshness, profile, asOf)]));
    if (gates.uniqueness)
      checks.push(...asking(gates.uniqueness, [uniquenessCheck(gates.uniqueness, profile, contract)]));
  }
  if (gates.rejectRate) checks.push(...asking(gates.rejectRate, [rejectRateCheck(gates.rejectRate, stats)]));
  for (const reference of contract.references)
    checks.push(...asking(reference, referentialIntegrityChecks({ ...contract, references: [reference] }, stats)));
  if (gates.distribution) {
    const reference = input.referenceFiles?.length ? parquetRelation(input.referenceFiles, contract.columns) : null;
    checks.push(
      ...asking(gates.distribution, await distributionChecks(conn, gates.distribution, contract, accepted, reference)),
    );
  }

  return buildGateReport({ contract, batchId: input.batchId, asOf, checks });
}

/** A gate's checks, its blocking ones marked to ask a person first when the gate says `onFail: 'ask'`. */
function asking(gate: { onFail?: OnFail }, checks: GateCheck[]): GateCheck[] {
  if (gate.onFail !== 'ask') return checks;
  return checks.map((c) => (c.severity === 'blocking' ? { ...c, onFail: 'ask' } : c));
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** The baseline in words for gate messages: "4 earlier Mondays", "7 earlier runs". */
function describeBaseline(contract: Contract, batchId: string, count: number): string {
  const unit = baselineKind(contract) === 'recentRuns' ? 'run' : WEEKDAYS[new Date(`${batchId}T00:00:00Z`).getUTCDay()];
  return `${count} earlier ${unit}${count === 1 ? '' : 's'}`;
}
