import type { DuckDBConnection } from '@duckdb/node-api';
import type { Gates } from '../specs/contract-schema';
import { queryRows, sqlIdent } from '../data/duckdb';
import { skippedCheck } from './checks';
import type { GateCheck } from './gate-report';
import { formatNumber, median } from './gate-math';
import { toNumber } from './sql';

type SegmentGate = NonNullable<Gates['volumeBySegment']>[number];

/** A published batch the segments are compared with: its relation (SQL) and its name in messages. */
export interface BaselineRelation {
  batchId: string;
  relation: string;
}

/** More failing segments than this collapse into one summary check, as the day-volume gate does. */
const MAX_LISTED_SEGMENTS = 20;

/** A missing value is a segment too: a feed that lost its key column shows up as one growing. */
const NULL_SEGMENT = '(null)';

interface SegmentCounts {
  /** Rows per segment value in the batch being judged. */
  current: Map<string, number>;
  /** Rows per segment value in each baseline batch, in baseline order. */
  baseline: Map<string, number>[];
}

/** One grouping over the batch and its baseline batches; a few hundred rows come back. */
async function countSegments(
  conn: DuckDBConnection,
  column: string,
  accepted: string,
  baseline: readonly BaselineRelation[],
): Promise<SegmentCounts> {
  const value = `coalesce(CAST(${sqlIdent(column)} AS VARCHAR), '${NULL_SEGMENT}')`;
  const relations = [accepted, ...baseline.map((b) => b.relation)];
  const sql = relations
    .map((relation, i) => `SELECT ${i} AS batch, ${value} AS segment, count(*) AS n FROM ${relation} GROUP BY 2`)
    .join(' UNION ALL ');
  const counts = relations.map(() => new Map<string, number>());
  for (const row of await queryRows(conn, sql)) counts[toNumber(row.batch)]!.set(String(row.segment), toNumber(row.n));
  return { current: counts[0]!, baseline: counts.slice(1) };
}

const total = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);

interface Judged {
  segment: string;
  observed: number;
  expected: number;
  share: number;
}

/**
 * Rows per value of one column (an airport, a store) against what the baseline makes expected, so a
 * loss concentrated in one segment stops the batch while the batch as a whole looks normal. Expected
 * rows are the segment's median share of each baseline batch times the batch's rows: a day that is low
 * everywhere (a holiday) leaves every share where it was.
 */
export async function volumeBySegmentChecks(
  conn: DuckDBConnection,
  config: SegmentGate,
  accepted: string,
  baseline: readonly BaselineRelation[],
  /** The baseline in words, e.g. "4 earlier Mondays". */
  baselineName: string,
): Promise<GateCheck[]> {
  const target = { gate: 'volumeBySegment', severity: config.severity } as const;
  const rule = `>= ${config.minRatio} x expected`;
  if (baseline.length === 0) {
    return [skippedCheck({ ...target, subject: config.column }, rule, `no baseline yet (${baselineName})`)];
  }
  const counts = await countSegments(conn, config.column, accepted, baseline);
  // A baseline batch that holds no rows says nothing about shares.
  const batches = counts.baseline.filter((batch) => total(batch) > 0);
  const totals = batches.map(total);
  // Shares scale tonight's rows; a batch with none is judged against the baseline's usual size instead,
  // so that an empty night fails every segment rather than judging none.
  const rows = total(counts.current) || (totals.length ? median(totals) : 0);
  const segments = new Set(batches.flatMap((batch) => [...batch.keys()]));
  const judged: Judged[] = [];
  for (const segment of segments) {
    const share = median(batches.map((batch, i) => (batch.get(segment) ?? 0) / totals[i]!));
    const expected = share * rows;
    if (expected >= config.minExpectedRows) {
      judged.push({ segment, observed: counts.current.get(segment) ?? 0, expected, share });
    }
  }
  judged.sort((a, b) => a.observed / a.expected - b.observed / b.expected || a.segment.localeCompare(b.segment));
  const describe = (j: Judged) =>
    `rows ${j.observed} of expected ${formatNumber(j.expected)} (${formatNumber(j.observed / j.expected)}; ` +
    `median share ${formatNumber(j.share * 100)}% of ${baselineName}, times ${formatNumber(rows)} rows)`;
  const low = judged.filter((j) => j.observed < config.minRatio * j.expected);
  if (low.length === 0) {
    const lowest = judged[0];
    return [
      {
        ...target,
        subject: config.column,
        observed: lowest
          ? `lowest ${lowest.segment} ${formatNumber(lowest.observed / lowest.expected)} of expected`
          : 'no segment judged',
        expected: rule,
        verdict: 'pass',
        detail: lowest
          ? `all ${judged.length} ${config.column} segments expected >= ${config.minExpectedRows} rows hold ${rule}; lowest ${lowest.segment}: ${describe(lowest)}`
          : `no ${config.column} segment is expected to hold >= ${config.minExpectedRows} rows`,
      },
    ];
  }
  const listed: GateCheck[] = low.slice(0, MAX_LISTED_SEGMENTS).map((j) => ({
    ...target,
    subject: `${config.column}=${j.segment}`,
    observed: `rows ${j.observed}`,
    expected: `${rule} ${formatNumber(j.expected)}`,
    verdict: 'fail',
    detail: `${config.column} ${j.segment}: ${describe(j)} < ${config.minRatio} x expected`,
  }));
  if (low.length <= MAX_LISTED_SEGMENTS) return listed;
  const summary: GateCheck = {
    ...target,
    subject: config.column,
    observed: `${low.length} of ${judged.length} segments low`,
    expected: rule,
    verdict: 'fail',
    detail: `${low.length - MAX_LISTED_SEGMENTS} more ${config.column} segments below ${rule} not listed`,
  };
  return [...listed, summary];
}
