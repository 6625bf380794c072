import type { DuckDBConnection } from '../data/duckdb';
import { queryRows, sqlFileList, sqlIdent, sqlString } from '../data/duckdb';
import type { Contract } from '../specs/contract-schema';
import type { FeatureSet } from '../specs/feature-schema';
import { median } from '../quality/gate-math';
import { addDays } from './partition-dates';
import { maxWindowDays } from './feature-sql';
import type { FeatureCheck } from './feature-report';

export interface ExtractedPartition {
  partitionRows: number;
  historyRows: number;
  /** Days before the partition, within the longest window, that have rows. */
  historyDays: number;
  /** Newest event time in the input dataset (ISO, naive time as UTC). */
  newestEvent: string | null;
}

/** Copies the rows a partition needs (its day and the window before it) out of the input dataset. */
export async function extractPartition(
  conn: DuckDBConnection,
  fs: FeatureSet,
  contract: Contract,
  inputFiles: string[],
  partition: string,
  out: string,
): Promise<ExtractedPartition> {
  const t = sqlIdent(contract.eventTime);
  const from = addDays(partition, -maxWindowDays(fs));
  const until = addDays(partition, 1);
  // No ORDER BY: the offline partition sorts its own output; this copy only narrows what later steps read.
  await conn.run(
    `COPY (SELECT * FROM read_parquet(${sqlFileList(inputFiles)}) WHERE ${t} >= TIMESTAMP ${sqlString(from)} AND ${t} < TIMESTAMP ${sqlString(until)})
     TO ${sqlString(out)} (FORMAT parquet)`,
  );
  const [counts] = await queryRows<{ partition_rows: number; history_rows: number; history_days: number }>(
    conn,
    `SELECT count(*) FILTER (WHERE ${t} >= TIMESTAMP ${sqlString(partition)}) AS partition_rows,
            count(*) FILTER (WHERE ${t} < TIMESTAMP ${sqlString(partition)}) AS history_rows,
            count(DISTINCT CAST(${t} AS DATE)) FILTER (WHERE ${t} < TIMESTAMP ${sqlString(partition)}) AS history_days
     FROM read_parquet(${sqlString(out)})`,
  );
  return {
    partitionRows: counts!.partition_rows,
    historyRows: counts!.history_rows,
    historyDays: counts!.history_days,
    newestEvent: await newestEvent(conn, contract, inputFiles),
  };
}

/**
 * Copies the rows a range of partitions needs (its days and the window before the first) out of the
 * input dataset, once, and gives each day what extractPartition would have: the same counts from one
 * GROUP BY, and the input's newest event.
 */
export async function extractRange(
  conn: DuckDBConnection,
  fs: FeatureSet,
  contract: Contract,
  inputFiles: string[],
  days: readonly string[],
  out: string,
): Promise<Map<string, ExtractedPartition>> {
  const t = sqlIdent(contract.eventTime);
  const window = maxWindowDays(fs);
  await conn.run(
    `COPY (SELECT * FROM read_parquet(${sqlFileList(inputFiles)}) WHERE ${t} >= TIMESTAMP ${sqlString(addDays(days[0]!, -window))} AND ${t} < TIMESTAMP ${sqlString(addDays(days.at(-1)!, 1))})
     TO ${sqlString(out)} (FORMAT parquet)`,
  );
  const perDay = await queryRows<{ day: string; n: number }>(
    conn,
    `SELECT strftime(CAST(${t} AS DATE), '%Y-%m-%d') AS day, count(*) AS n FROM read_parquet(${sqlString(out)}) GROUP BY 1`,
  );
  const rowsOn = new Map(perDay.map((r) => [r.day, r.n]));
  const newest = await newestEvent(conn, contract, inputFiles);
  return new Map(
    days.map((day) => {
      const before = Array.from({ length: window }, (_, i) => rowsOn.get(addDays(day, -(i + 1))) ?? 0);
      return [
        day,
        {
          partitionRows: rowsOn.get(day) ?? 0,
          historyRows: before.reduce((a, b) => a + b, 0),
          historyDays: before.filter((n) => n > 0).length,
          newestEvent: newest,
        },
      ];
    }),
  );
}

/** The input's newest event time (ISO), from the Parquet row-group statistics: no scan of the whole input. */
async function newestEvent(conn: DuckDBConnection, contract: Contract, inputFiles: string[]): Promise<string | null> {
  const t = sqlIdent(contract.eventTime);
  const [newest] = await queryRows<{ newest: string | null }>(
    conn,
    `SELECT strftime(max(CAST(stats_max AS TIMESTAMP)), '%Y-%m-%dT%H:%M:%S.000Z') AS newest
     FROM parquet_metadata(${sqlFileList(inputFiles)}) WHERE path_in_schema = ${sqlString(contract.eventTime)}`,
  );
  if (newest?.newest) return newest.newest;
  // Files written without statistics: scan after all.
  const [scanned] = await queryRows<{ newest: string | null }>(
    conn,
    `SELECT strftime(max(${t}), '%Y-%m-%dT%H:%M:%S.000Z') AS newest FROM read_parquet(${sqlFileList(inputFiles)})`,
  );
  return scanned?.newest ?? null;
}

/**
 * Is the input good enough to compute the partition? Stale: the input has not reached the end of
 * the partition's day, or holds no rows for it. Degraded: too few rows against recent partitions,
 * or windows with missing days (features would be computed on a partial week).
 */
export function checkPartitionInput(
  fs: FeatureSet,
  contract: Contract,
  partition: string,
  extracted: ExtractedPartition,
  recentRows: number[],
): FeatureCheck[] {
  const v = fs.validation;
  const checks: FeatureCheck[] = [];
  // A date event time stamps the whole day at its midnight: any row of the day shows it was delivered.
  const dateEventTime = contract.columns.find((c) => c.name === contract.eventTime)?.type === 'date';
  const reachedAt = dateEventTime ? `${partition}T00:00:00.000Z` : `${partition}T23:00:00.000Z`;
  // A daily dataset delivers each day whole: its partition holding rows is the day having arrived.
  const delivered = contract.partitioning === 'daily';
  const reached = delivered || (extracted.newestEvent !== null && extracted.newestEvent >= reachedAt);
  checks.push({
    subject: 'input',
    gate: 'freshness',
    observed: extracted.newestEvent ?? 'no rows',
    expected: delivered
      ? `the delivery of ${partition} (a daily partition)`
      : dateEventTime
        ? `events of ${partition} (dates, stamped at ${reachedAt})`
        : `events up to the end of ${partition} (${addDays(partition, 1)}T00:00:00.000Z)`,
    verdict: reached && extracted.partitionRows > 0 ? 'pass' : 'fail',
    severity: 'blocking',
    detail:
      extracted.partitionRows === 0
        ? `no rows for ${partition} in the input`
        : `newest input event ${extracted.newestEvent}, before the end of ${partition}`,
  });
  const needed = Math.min(v.minHistoryDays, maxWindowDays(fs));
  checks.push({
    subject: 'input',
    gate: 'history',
    observed: `${extracted.historyDays} days`,
    expected: `>= ${needed} days before ${partition}`,
    verdict: extracted.historyDays >= needed ? 'pass' : 'fail',
    severity: 'blocking',
    detail: `${extracted.historyDays} of the ${needed} days before ${partition} have rows: windows would be incomplete`,
  });
  if (recentRows.length === 0) {
    checks.push({
      subject: 'input',
      gate: 'rows',
      observed: String(extracted.partitionRows),
      expected: 'a baseline of earlier partitions',
      verdict: 'skipped',
      severity: 'blocking',
      detail: 'no earlier partition yet',
    });
  } else {
    const baseline = median(recentRows);
    const floor = v.minRowsRatio * baseline;
    checks.push({
      subject: 'input',
      gate: 'rows',
      observed: String(extracted.partitionRows),
      expected: `>= ${v.minRowsRatio} x median ${baseline}`,
      verdict: extracted.partitionRows >= floor ? 'pass' : 'fail',
      severity: 'blocking',
      detail: `${extracted.partitionRows} rows < ${v.minRowsRatio} x median ${baseline} of recent partitions`,
    });
  }
  return checks;
}
