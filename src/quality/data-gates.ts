import type { DuckDBConnection } from '@duckdb/node-api';
import type { Contract, Gates } from '../specs/contract-schema';
import { maxCheck, skippedCheck } from './checks';
import type { GateCheck } from './gate-report';
import { formatNumber, median, rate } from './gate-math';
import { queryRows, sqlIdent } from '../data/duckdb';
import { toNumber } from './sql';

/** Measures of the accepted rows that several gates share, taken in one scan. */
export interface AcceptedProfile {
  rows: number;
  /** Distinct values of the contract key; null when the contract declares none. */
  distinctKeys: number | null;
  /** Newest event time as "YYYY-MM-DD HH:MM:SS", null when no row has one. */
  newest: string | null;
  /** Hours from the newest event time to as-of; negative when the newest event lies after as-of. */
  ageHours: number | null;
}

export async function profileAccepted(
  conn: DuckDBConnection,
  relation: string,
  contract: Contract,
  asOf: Date,
): Promise<AcceptedProfile> {
  const event = `CAST(max(${sqlIdent(contract.eventTime)}) AS TIMESTAMP)`;
  // Grouping by the key (rather than count(DISTINCT ...)) treats NULL key parts as equal values, and is the
  // faster plan on DuckDB; without a key the inner query is a single group.
  const keyed = contract.key.length > 0;
  const groupBy = keyed ? `GROUP BY ${contract.key.map(sqlIdent).join(', ')}` : '';
  const [row] = await queryRows(
    conn,
    `SELECT coalesce(sum(n), 0) AS n, ${keyed ? 'count(*)' : 'NULL'} AS distinct_keys,
            strftime(max(newest), '%Y-%m-%d %H:%M:%S') AS newest,
            (CAST($as_of AS DOUBLE) - epoch(max(newest))) / 3600 AS age_hours
     FROM (SELECT count(*) AS n, ${event} AS newest FROM ${relation} ${groupBy})`,
    { as_of: asOf.getTime() / 1000 },
  );
  return {
    rows: toNumber(row!.n!),
    distinctKeys: row!.distinct_keys === null ? null : toNumber(row!.distinct_keys!),
    newest: typeof row!.newest === 'string' ? row!.newest : null,
    ageHours: row!.age_hours === null ? null : toNumber(row!.age_hours!),
  };
}

/** A newest event slightly ahead of as-of is clock skew; beyond this it is bad data. */
const FUTURE_TOLERANCE_HOURS = 1;

export function freshnessCheck(
  config: NonNullable<Gates['freshness']>,
  profile: AcceptedProfile,
  asOf: Date,
): GateCheck {
  const target = { gate: 'freshness', subject: 'dataset', severity: config.severity } as const;
  const expected = `age <= ${config.maxAgeHours} h`;
  if (profile.newest === null || profile.ageHours === null) {
    return {
      ...target,
      observed: 'no event times',
      expected,
      verdict: 'fail',
      detail: 'no accepted row has an event time',
    };
  }
  const age = formatNumber(profile.ageHours);
  const observed = `newest ${profile.newest}, age ${age} h`;
  if (profile.ageHours < -FUTURE_TOLERANCE_HOURS) {
    const ahead = formatNumber(-profile.ageHours);
    const detail = `event times in the future: newest ${profile.newest} is ${ahead} h after as-of ${asOf.toISOString()}`;
    return { ...target, observed, expected, verdict: 'fail', detail };
  }
  const ok = profile.ageHours <= config.maxAgeHours;
  const detail = `newest event ${profile.newest} is ${age} h old, ${ok ? '<=' : '>'} ${config.maxAgeHours} h`;
  return { ...target, observed, expected, verdict: ok ? 'pass' : 'fail', detail };
}

export function uniquenessCheck(
  config: NonNullable<Gates['uniqueness']>,
  profile: AcceptedProfile,
  contract: Contract,
): GateCheck {
  const target = { gate: 'uniqueness', subject: 'dataset', severity: config.severity } as const;
  if (profile.distinctKeys === null)
    return skippedCheck(target, `<= ${config.maxDuplicateRate}`, 'the contract declares no key');
  const duplicates = profile.rows - profile.distinctKeys;
  return maxCheck(target, {
    label: 'duplicate rate',
    value: rate(duplicates, profile.rows),
    max: config.maxDuplicateRate,
    context: `${duplicates} of ${profile.rows} on (${contract.key.join(', ')})`,
  });
}

/** More failing days than this collapse into one summary check, so a broken backfill cannot flood the report. */
const MAX_LISTED_DAYS = 20;

/** Flags each day of event time whose row count falls below minRatio x the median day. */
export async function segmentVolumeChecks(
  conn: DuckDBConnection,
  relation: string,
  config: NonNullable<Gates['segmentVolume']>,
  contract: Contract,
): Promise<GateCheck[]> {
  const column = sqlIdent(contract.eventTime);
  // One row per day: the aggregate is small even for years of data, so the median is taken in JS.
  const days = (
    await queryRows(
      conn,
      // Formatting after aggregating: strftime per row costs more than the whole grouping.
      `SELECT strftime(day_start, '%Y-%m-%d') AS day_start, n FROM (
         SELECT date_trunc('day', ${column}) AS day_start, count(*) AS n
         FROM ${relation} WHERE ${column} IS NOT NULL GROUP BY 1)
       ORDER BY n, day_start`,
    )
  ).map((row) => ({ day: String(row.day_start), rows: toNumber(row.n!) }));
  const target = { gate: 'segmentVolume', severity: config.severity } as const;
  const typical = days.length ? median(days.map((d) => d.rows)) : 0;
  const expected = `>= ${config.minRatio} x median day ${formatNumber(typical)}`;
  if (days.length === 0)
    return [skippedCheck({ ...target, subject: 'dataset' }, expected, 'no accepted row has an event time')];
  // Sorted by row count, so the listed days are the emptiest ones.
  const low = days.filter((d) => d.rows < config.minRatio * typical);
  if (low.length === 0) {
    const observed = `lowest day ${days[0]!.day} rows ${days[0]!.rows}`;
    const detail = `all ${days.length} days have >= ${config.minRatio} x median day ${formatNumber(typical)} rows`;
    return [{ ...target, subject: 'dataset', observed, expected, verdict: 'pass', detail }];
  }
  const listed: GateCheck[] = low.slice(0, MAX_LISTED_DAYS).map((d) => ({
    ...target,
    subject: d.day,
    observed: `rows ${d.rows}`,
    expected,
    verdict: 'fail',
    detail: `rows ${d.rows} < ${config.minRatio} x median day ${formatNumber(typical)} (${formatNumber(d.rows / typical)} of median)`,
  }));
  if (low.length <= MAX_LISTED_DAYS) return listed;
  const hidden = low.length - MAX_LISTED_DAYS;
  const summary: GateCheck = {
    ...target,
    subject: 'dataset',
    observed: `${low.length} of ${days.length} days low`,
    expected,
    verdict: 'fail',
    detail: `${hidden} more days below ${config.minRatio} x median day ${formatNumber(typical)} not listed`,
  };
  return [...listed, summary];
}
