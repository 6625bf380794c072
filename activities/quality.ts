import fs from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { withConnection } from '../src/data/duckdb';
import { writeFileAtomic } from '../src/data/atomic-files';
import { evaluateGates } from '../src/quality/gates';
import { GateOverrideSchema, IngestStatsSchema, summarizeFailures, type GateReport } from '../src/quality/gate-report';
import { loadSpec } from '../src/specs';
import { ErrorTypes } from '../src/api/errors';
import { batchKeys } from '../src/data/batch-keys';
import { baselineRuns } from './gate-baseline';
import type { ActivityDeps } from './deps';
import { callerRun } from './caller';
import { parseInput } from './parse-input';
import { recordGateFailures } from './pipeline-metrics';

export const CheckQualityInputSchema = z.object({
  spec: z.string().min(1),
  batchId: z.string().min(1),
  stats: IngestStatsSchema,
  /** ISO time the freshness gate measures against. */
  asOf: z.iso.datetime(),
});
export type CheckQualityInput = z.infer<typeof CheckQualityInputSchema>;

export interface QualityOutcome {
  report: GateReport;
  reportUri: string;
  /**
   * Set when the batch failed only checks of gates marked `onFail: 'ask'`: who may override them and
   * how long the run waits. The run decides; nothing is published until it does.
   */
  ask?: { reviewers: string[]; deadlineHours: number };
}

const RecordOverrideInputSchema = z.object({
  spec: z.string().min(1),
  batchId: z.string().min(1),
  override: GateOverrideSchema,
});

export function createQualityActivities({ duck, artifacts, store }: ActivityDeps) {
  return {
    /**
     * Judges a staged batch against its contract's gates and publishes the report (a failing report is
     * published too: it is the evidence). A blocking failure is a non-retryable DataQualityGateFailed
     * that carries the report.
     */
    async checkQuality(raw: CheckQualityInput): Promise<QualityOutcome> {
      const input = parseInput(CheckQualityInputSchema, raw);
      const { contract } = loadSpec(input.spec);
      const keys = batchKeys(contract, input.batchId);
      // The distribution gate's reference is the batch before, also for a daily dataset: delays follow the
      // weather, which carries over a day, so the night before warns less than the same weekday a week
      // before (3 against 9 of January-June 2001's 181 nights, bench nightly).
      const previous = await store.runStats.latestPublished(contract.name, input.batchId);
      const referenceFiles = previous?.outputUri
        ? await artifacts.parquetFiles(await artifacts.open(previous.outputUri))
        : undefined;
      const report = await withConnection(duck, async (conn) =>
        evaluateGates({
          conn,
          contract,
          batchId: input.batchId,
          acceptedFiles: await artifacts.parquetFiles(await artifacts.restore(keys.dataset, 'staging')),
          stats: input.stats,
          loadBaseline: async (lookback) =>
            Promise.all(
              (await baselineRuns(store.runStats, contract, input.batchId, lookback)).map(async (run) => ({
                batchId: run.batchId,
                rowsAccepted: run.rowsAccepted,
                files: run.outputUri ? await artifacts.parquetFiles(await artifacts.open(run.outputUri)) : [],
              })),
            ),
          referenceFiles,
          asOf: new Date(input.asOf),
        }),
      );
      const info = callerRun();
      await writeFileAtomic(
        path.join(artifacts.stagingDir(keys.report), 'gate-report.json'),
        JSON.stringify({ ...report, workflowId: info.workflowId, runId: info.runId }, null, 2),
      );
      await artifacts.publish(keys.report);
      const reportUri = `${artifacts.uri(keys.report)}/gate-report.json`;
      recordGateFailures(
        contract.name,
        report.checks.filter((c) => c.verdict === 'fail'),
      );
      const blocking = report.checks.filter((c) => c.verdict === 'fail' && c.severity === 'blocking');
      if (!report.passed && contract.overrides && blocking.every((c) => c.onFail === 'ask')) {
        const { reviewers, deadlineHours } = contract.overrides;
        return { report, reportUri, ask: { reviewers, deadlineHours } };
      }
      if (!report.passed) {
        throw ApplicationFailure.nonRetryable(
          `data quality gates failed for ${contract.name} batch ${input.batchId}: ${summarizeFailures(report)}`,
          ErrorTypes.DataQualityGateFailed,
          { report, reportUri },
        );
      }
      return { report, reportUri };
    },

    /** Adds two reviewers' override to the batch's published gate report (it is evidence too). */
    async recordGateOverride(raw: z.input<typeof RecordOverrideInputSchema>): Promise<void> {
      const input = parseInput(RecordOverrideInputSchema, raw);
      const { contract } = loadSpec(input.spec);
      const keys = batchKeys(contract, input.batchId);
      const file = path.join(await artifacts.openKey(keys.report), 'gate-report.json');
      const report = JSON.parse(await fs.readFile(file, 'utf8')) as GateReport;
      await writeFileAtomic(
        path.join(artifacts.stagingDir(keys.report), 'gate-report.json'),
        JSON.stringify({ ...report, override: input.override }, null, 2),
      );
      await artifacts.publish(keys.report);
    },
  };
}
