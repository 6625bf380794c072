import crypto from 'node:crypto';
import type { Contract } from '../specs/contract-schema';
import type { Feature, FeatureSet } from '../specs/feature-schema';
import { sqlIdent, sqlString } from '../data/duckdb';
import { addDays } from './partition-dates';

/**
 * The SQL of a feature set, shared by the offline partition (training) and the online snapshot
 * (serving), so the two can never compute a feature differently.
 *
 * Point-in-time rule, at day granularity: a row of day D gets entity aggregates over the days
 * [D - window, D), i.e. strictly before its own day; the online snapshot written when partition D
 * runs covers [D + 1 - window, D + 1) and is valid from D + 1. So the offline value of any row of day
 * D equals what the online store held during day D.
 */

interface EntityGroup {
  entity: string;
  windowDays: number;
  features: Feature[];
}

function groups(fs: FeatureSet): EntityGroup[] {
  const byKey = new Map<string, EntityGroup>();
  for (const f of fs.features.filter((x) => x.kind === 'entity')) {
    const key = `${f.entity}|${f.windowDays}`;
    const group = byKey.get(key) ?? { entity: f.entity!, windowDays: f.windowDays!, features: [] };
    group.features.push(f);
    byKey.set(key, group);
  }
  return [...byKey.values()];
}

export function maxWindowDays(fs: FeatureSet): number {
  return Math.max(0, ...fs.features.map((f) => f.windowDays ?? 0));
}

const ts = (day: string) => `TIMESTAMP ${sqlString(`${day} 00:00:00`)}`;

/** The name of the column holding an entity's key in keyed rows. */
export const entityKeyColumn = (entity: string) => `__key_${entity}`;
const keyColumn = (entity: string) => sqlIdent(entityKeyColumn(entity));

/**
 * A select item computing an entity's key over a row's own columns, named by entityKeyColumn. The
 * offline partition keys its rows with it, and the prediction server keys request rows with it.
 */
export function entityKeySql(entity: FeatureSet['entities'][number]): string {
  return `CAST((${entity.key}) AS VARCHAR) AS ${keyColumn(entity.name)}`;
}

/**
 * A select item computing an event feature over a row's own columns, named by the feature: the
 * offline partition's expression, which the prediction server evaluates over request rows.
 */
export function eventFeatureSql(f: Feature): string {
  return `CAST((${f.sql}) AS DOUBLE) AS ${sqlIdent(f.name)}`;
}

function keyed(fs: FeatureSet, source: string): string {
  return `SELECT *, ${fs.entities.map(entityKeySql).join(', ')} FROM ${source}`;
}

/** Aggregates of one entity group over [until - window, until). */
function groupAggregate(g: EntityGroup, eventTime: string, until: string): string {
  const from = addDays(until, -g.windowDays);
  return `SELECT ${keyColumn(g.entity)} AS k, ${g.features.map((f) => `${f.sql} AS ${sqlIdent(f.name)}`).join(', ')}
          FROM keyed WHERE ${sqlIdent(eventTime)} >= ${ts(from)} AND ${sqlIdent(eventTime)} < ${ts(until)} AND ${keyColumn(g.entity)} IS NOT NULL
          GROUP BY 1`;
}

function valueOf(f: Feature, alias: string): string {
  const col = `${alias}.${sqlIdent(f.name)}`;
  return f.fillMissing === undefined ? col : `coalesce(${col}, ${f.fillMissing})`;
}

/** The select items of every feature of an offline row: event features over the row (alias r), entity features from group g<i>. */
function offlineFeatureItems(fs: FeatureSet, gs: EntityGroup[]): string[] {
  return fs.features.map((f) => {
    if (f.kind === 'event') return eventFeatureSql(f);
    const i = gs.findIndex((g) => g.features.includes(f));
    return `CAST(${valueOf(f, `g${i}`)} AS DOUBLE) AS ${sqlIdent(f.name)}`;
  });
}

/** The offline partition: every row of day `partition` with its features, in a fixed order. */
export function offlinePartitionSql(fs: FeatureSet, contract: Contract, source: string, partition: string): string {
  const gs = groups(fs);
  const t = sqlIdent(contract.eventTime);
  const columns = contract.columns.map((c) => `r.${sqlIdent(c.name)}`);
  const features = offlineFeatureItems(fs, gs);
  // Event features are row expressions: evaluate them over the row's own columns (alias r).
  return `WITH keyed AS (${keyed(fs, source)}),
  ${gs.map((g, i) => `g${i} AS (${groupAggregate(g, contract.eventTime, partition)})`).join(',\n  ')}${gs.length ? ',' : ''}
  r AS (SELECT * FROM keyed WHERE ${t} >= ${ts(partition)} AND ${t} < ${ts(addDays(partition, 1))})
  SELECT ${columns.join(', ')}, ${features.join(', ')}
  FROM r ${gs.map((g, i) => `LEFT JOIN g${i} ON g${i}.k = r.${keyColumn(g.entity)}`).join(' ')}
  ORDER BY ${contract.columns.map((c) => `r.${sqlIdent(c.name)}`).join(', ')}`;
}

/** The select items of an entity's snapshot: every feature of its groups g<i>. */
function snapshotFeatureItems(gs: EntityGroup[]): string[] {
  return gs.flatMap((g, i) => g.features.map((f) => `CAST(${valueOf(f, `g${i}`)} AS DOUBLE) AS ${sqlIdent(f.name)}`));
}

/** The online snapshot of one entity: its features over the windows ending at `validFrom`. */
export function onlineSnapshotSql(
  fs: FeatureSet,
  contract: Contract,
  source: string,
  entity: string,
  validFrom: string,
): string {
  const gs = groups(fs).filter((g) => g.entity === entity);
  if (gs.length === 0) throw new Error(`entity ${entity} has no entity features`);
  const keys = gs.map((_, i) => `SELECT k FROM g${i}`).join(' UNION ');
  const features = snapshotFeatureItems(gs);
  return `WITH keyed AS (${keyed(fs, source)}),
  ${gs.map((g, i) => `g${i} AS (${groupAggregate(g, contract.eventTime, validFrom)})`).join(',\n  ')},
  keys AS (${keys})
  SELECT keys.k AS entity_key, ${features.join(', ')}
  FROM keys ${gs.map((_, i) => `LEFT JOIN g${i} ON g${i}.k = keys.k`).join(' ')}
  ORDER BY entity_key`;
}

export function entitiesWithFeatures(fs: FeatureSet): string[] {
  return [...new Set(fs.features.filter((f) => f.kind === 'entity').map((f) => f.entity!))];
}

/** What identifies a definition: the computation, not the prose. */
export function definitionHash(fs: FeatureSet): string {
  const computation = {
    entities: fs.entities.map((e) => ({ name: e.name, key: e.key })),
    features: fs.features.map((f) => ({
      name: f.name,
      kind: f.kind,
      entity: f.entity,
      windowDays: f.windowDays,
      sql: f.sql,
      fillMissing: f.fillMissing,
    })),
  };
  return crypto.createHash('sha256').update(JSON.stringify(computation)).digest('hex');
}

/**
 * Many partitions in one statement (a backfill's days): the same aggregates over the same windows as
 * the per-day SQL above, for every listed day at once. `days(__range_day)` holds the days; each input
 * row carries its own day (ROW_DAY: its event time truncated to midnight) and joins, by equality, the
 * days whose window it falls in, so the window is read once per statement, not once per day. A window
 * [D - w, D) of midnights holds exactly the rows whose own day is D - w .. D - 1: equality joins on
 * days replace range conditions on timestamps, which DuckDB could only run as nested loops.
 */
export const RANGE_DAY_COLUMN = '__range_day';
const rangeDay = sqlIdent(RANGE_DAY_COLUMN);
const rowDay = sqlIdent('__row_day');

function rangeKeyed(fs: FeatureSet, contract: Contract, source: string): string {
  return `SELECT *, CAST(date_trunc('day', ${sqlIdent(contract.eventTime)}) AS TIMESTAMP) AS ${rowDay} FROM (${keyed(fs, source)})`;
}

function daysRelation(days: readonly string[]): string {
  if (days.length === 0) throw new Error('a range needs at least one day');
  return `SELECT unnest([${days.map(ts).join(', ')}]) AS ${rangeDay}`;
}

/**
 * The row days of each day D's window [D + shift - window, D + shift): (__window_day, __window_row_day)
 * for row days D + shift - window .. D + shift - 1. Helper columns are named like the others here
 * (`__...`) so a contract column or a feature's SQL can never meet one of them.
 */
function windowDays(g: EntityGroup, shiftDays: number, days: readonly string[]): string {
  // A VALUES list, not a cross join of `days` with range(): DuckDB knows its size, builds the join's hash
  // table on it and streams the rows past (on a cross join's estimate it built the table on the rows).
  const pairs = days.flatMap((d) =>
    Array.from({ length: g.windowDays }, (_, i) => `(${ts(d)}, ${ts(addDays(d, shiftDays - g.windowDays + i))})`),
  );
  return `SELECT * FROM (VALUES ${pairs.join(', ')}) AS window_days(__window_day, __window_row_day)`;
}

const aggregateItems = (g: EntityGroup) => g.features.map((f) => `${f.sql} AS ${sqlIdent(f.name)}`).join(', ');

/** Aggregates of one entity group for every day D of `days`, over [D + shift - window, D + shift). */
function rangeGroupAggregate(g: EntityGroup, shiftDays: number, days: readonly string[]): string {
  return `SELECT w.__window_day AS d, ${keyColumn(g.entity)} AS k, ${aggregateItems(g)}
          FROM keyed JOIN (${windowDays(g, shiftDays, days)}) w ON w.__window_row_day = keyed.${rowDay}
          WHERE ${keyColumn(g.entity)} IS NOT NULL
          GROUP BY 1, 2`;
}

/**
 * The offline rows of every day in `days`, each with its day in RANGE_DAY_COLUMN and no order:
 * a partition is its day's rows ordered as offlinePartitionSql orders them (offlineRangeOrder).
 */
export function offlineRangeSql(fs: FeatureSet, contract: Contract, source: string, days: readonly string[]): string {
  const gs = groups(fs);
  const columns = contract.columns.map((c) => `r.${sqlIdent(c.name)}`);
  const features = offlineFeatureItems(fs, gs);
  return `WITH keyed AS (${rangeKeyed(fs, contract, source)}),
  days AS (${daysRelation(days)}),
  ${gs.map((g, i) => `g${i} AS (${rangeGroupAggregate(g, 0, days)})`).join(',\n  ')}${gs.length ? ',' : ''}
  r AS (SELECT keyed.*, days.${rangeDay} FROM keyed JOIN days ON days.${rangeDay} = keyed.${rowDay})
  SELECT r.${rangeDay}, ${columns.join(', ')}, ${features.join(', ')}
  FROM r ${gs.map((g, i) => `LEFT JOIN g${i} ON g${i}.d = r.${rangeDay} AND g${i}.k = r.${keyColumn(g.entity)}`).join(' ')}`;
}

/** The ORDER BY of a partition's rows, over a relation of offlineRangeSql's columns. */
export function offlineRangeOrder(contract: Contract): string {
  return contract.columns.map((c) => sqlIdent(c.name)).join(', ');
}

/**
 * The online snapshot one entity holds after the partitions of `days` ran one by one: per key, its
 * snapshot of the newest day whose windows (ending at that day + 1) hold the key, with that day + 1
 * in `valid_from` (YYYY-MM-DD).
 */
export function onlineRangeSnapshotSql(
  fs: FeatureSet,
  contract: Contract,
  source: string,
  entity: string,
  days: readonly string[],
): string {
  const gs = groups(fs).filter((g) => g.entity === entity);
  if (gs.length === 0) throw new Error(`entity ${entity} has no entity features`);
  const key = keyColumn(entity);
  // Only each key's newest day is aggregated (its other days' snapshots were overwritten): the days of
  // its rows say which days' windows hold it, then one window of rows per key is aggregated.
  const holding = gs.map(
    (g) =>
      `SELECT present.k, w.__window_day AS d FROM present JOIN (${windowDays(g, 1, days)}) w ON w.__window_row_day = present.row_day`,
  );
  const aggregates = gs.map(
    (g) => `SELECT newest.__newest_key AS k, ${aggregateItems(g)}
          FROM keyed JOIN newest ON newest.__newest_key = keyed.${key}
            AND keyed.${rowDay} BETWEEN newest.__newest_day + to_days(${1 - g.windowDays}) AND newest.__newest_day
          GROUP BY 1`,
  );
  return `WITH keyed AS (${rangeKeyed(fs, contract, source)}),
  days AS (${daysRelation(days)}),
  present AS (SELECT DISTINCT ${key} AS k, ${rowDay} AS row_day FROM keyed WHERE ${key} IS NOT NULL),
  newest AS (SELECT k AS __newest_key, max(d) AS __newest_day FROM (${holding.join(' UNION ALL ')}) GROUP BY k),
  ${aggregates.map((a, i) => `g${i} AS (${a})`).join(',\n  ')}
  SELECT newest.__newest_key AS entity_key, strftime(newest.__newest_day + INTERVAL 1 DAY, '%Y-%m-%d') AS valid_from, ${snapshotFeatureItems(gs).join(', ')}
  FROM newest ${gs.map((_, i) => `LEFT JOIN g${i} ON g${i}.k = newest.__newest_key`).join(' ')}
  ORDER BY entity_key`;
}
