import type { DuckDBConnection } from '../data/duckdb';
import { queryRows, sqlIdent, sqlString } from '../data/duckdb';
import type { FeatureSet } from '../specs/feature-schema';
import { formatNumber } from '../quality/gate-math';
import { psiFromCounts } from '../stats/psi';
import type { FeatureCheck } from './feature-report';

export interface FeatureStats {
  rows: number;
  features: Record<
    string,
    { nulls: number; min: number | null; max: number | null; mean: number | null; outOfRange: number }
  >;
}

/** Per-feature statistics of a computed partition, in one scan. */
export async function featureStats(conn: DuckDBConnection, fs: FeatureSet, file: string): Promise<FeatureStats> {
  const [row] = await queryRows<Record<string, number | null>>(
    conn,
    `SELECT ${statsColumns(fs)} FROM read_parquet(${sqlString(file)})`,
  );
  return toStats(fs, row!);
}

/** The statistics of every day of `relation` (days in its `dayColumn`, a TIMESTAMP), in one scan grouped by day. */
export async function featureStatsByDay(
  conn: DuckDBConnection,
  fs: FeatureSet,
  relation: string,
  dayColumn: string,
): Promise<Map<string, FeatureStats>> {
  const rows = await queryRows<Record<string, number | null> & { __day: string }>(
    conn,
    `SELECT strftime(${sqlIdent(dayColumn)}, '%Y-%m-%d') AS __day, ${statsColumns(fs)} FROM ${relation} GROUP BY 1`,
  );
  return new Map(rows.map((row) => [row.__day, toStats(fs, row)]));
}

function statsColumns(fs: FeatureSet): string {
  const parts = fs.features.flatMap((f, i) => {
    const c = sqlIdent(f.name);
    return [
      `count(*) FILTER (WHERE ${c} IS NULL) AS n${i}`,
      `min(${c}) AS lo${i}`,
      `max(${c}) AS hi${i}`,
      `avg(${c}) AS mean${i}`,
      `count(*) FILTER (WHERE ${c} < ${f.range[0]} OR ${c} > ${f.range[1]} OR isnan(${c})) AS out${i}`,
    ];
  });
  return `count(*) AS rows, ${parts.join(', ')}`;
}

function toStats(fs: FeatureSet, row: Record<string, number | null>): FeatureStats {
  const features: FeatureStats['features'] = {};
  fs.features.forEach((f, i) => {
    features[f.name] = {
      nulls: row[`n${i}`]!,
      min: row[`lo${i}`] ?? null,
      max: row[`hi${i}`] ?? null,
      mean: row[`mean${i}`] ?? null,
      outOfRange: row[`out${i}`]!,
    };
  });
  return { rows: row.rows!, features };
}

/**
 * Judges computed features: null share and out-of-range share are blocking (a broken feature must
 * not reach training or serving); a distribution shift against the previous partition is a warning.
 */
export async function validateFeatures(
  conn: DuckDBConnection,
  fs: FeatureSet,
  file: string,
  previousFile: string | undefined,
): Promise<{ stats: FeatureStats; checks: FeatureCheck[] }> {
  const stats = await featureStats(conn, fs, file);
  return { stats, checks: judgeFeatures(fs, stats, await driftChecks(conn, fs, file, previousFile)) };
}

/**
 * The distribution check of each drift-checked feature of a partition's file against its previous
 * partition's: the two files as two days of one relation, checked by the statement that checks a
 * range's days (one statement for every feature, not three per feature).
 */
export async function driftChecks(
  conn: DuckDBConnection,
  fs: FeatureSet,
  file: string,
  previousFile: string | undefined,
): Promise<Map<string, FeatureCheck>> {
  const checked = fs.features.filter((x) => x.driftCheck);
  if (!previousFile || checked.length === 0)
    return new Map(
      checked.map((f) => [f.name, distributionCheck(f.name, fs.validation.maxPsi, 'no previous partition')]),
    );
  const columns = checked.map((f) => sqlIdent(f.name)).join(', ');
  const side = (f: string, day: string) =>
    `SELECT ${columns}, TIMESTAMP ${sqlString(`${day} 00:00:00`)} AS ${sqlIdent(FILE_DAY)} FROM read_parquet(${sqlString(f)})`;
  const relation = `(${side(file, CURRENT_DAY)} UNION ALL ${side(previousFile, PREVIOUS_DAY)})`;
  const byDay = await driftChecksAgainstDays(conn, fs, relation, FILE_DAY, [
    { day: CURRENT_DAY, previous: PREVIOUS_DAY },
  ]);
  return byDay.get(CURRENT_DAY)!();
}

/** The day column, and its two days, of the relation a file and its previous partition's file make. */
const FILE_DAY = '__file_day';
const CURRENT_DAY = '2000-01-02';
const PREVIOUS_DAY = '2000-01-01';

/** The checks of a partition from its statistics and its drift-checked features' distribution checks, in feature order. */
export function judgeFeatures(fs: FeatureSet, stats: FeatureStats, drift: Map<string, FeatureCheck>): FeatureCheck[] {
  const checks: FeatureCheck[] = [];
  const share = (n: number) => (stats.rows === 0 ? 0 : n / stats.rows);
  for (const f of fs.features) {
    const s = stats.features[f.name]!;
    const nullShare = share(s.nulls);
    checks.push({
      subject: f.name,
      gate: 'nulls',
      observed: formatNumber(nullShare),
      expected: `<= ${f.maxNullShare}`,
      verdict: nullShare <= f.maxNullShare ? 'pass' : 'fail',
      severity: 'blocking',
      detail: `null share ${formatNumber(nullShare)} (${s.nulls} of ${stats.rows}) > ${f.maxNullShare}`,
    });
    const outShare = share(s.outOfRange);
    checks.push({
      subject: f.name,
      gate: 'range',
      observed: `${formatNumber(outShare)} outside [${f.range[0]}, ${f.range[1]}] (min ${s.min}, max ${s.max})`,
      expected: `<= ${fs.validation.maxOutOfRangeShare}`,
      verdict: outShare <= fs.validation.maxOutOfRangeShare ? 'pass' : 'fail',
      severity: 'blocking',
      detail: `${s.outOfRange} values outside [${f.range[0]}, ${f.range[1]}] (min ${s.min}, max ${s.max})`,
    });
    if (f.driftCheck) checks.push(drift.get(f.name)!);
  }
  return checks;
}

/** The deciles distribution checks cut values into: PSI on the previous partition's deciles (src/stats/psi.ts). */
const DECILES = '[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]';
/** The positions (1-based) of the nine deciles in a quantile list. */
const DECILE_CUTS = Array.from({ length: 9 }, (_, i) => i + 1);

/**
 * The distribution checks of days of `relation` (day in its TIMESTAMP `dayColumn`) each against another
 * day of it, its previous partition (`pairs`), counted in one statement: PSI of the day's values on the
 * deciles of its previous partition's (a value in the first bin whose edge it does not exceed, the
 * tenth past the last edge). Deciles are computed only for days that are
 * some day's previous. Every row is binned twice per drift-checked feature, on its own day's deciles (the
 * previous side of the day it precedes; none for a day that precedes none) and on its previous day's (the
 * current side), and the bins are counted in one pass of grouping sets. Per day, a function gives
 * the checks: PSI is computed when asked, so a day refused before validation never is.
 */
export async function driftChecksAgainstDays(
  conn: DuckDBConnection,
  fs: FeatureSet,
  relation: string,
  dayColumn: string,
  pairs: readonly { day: string; previous: string }[],
): Promise<Map<string, () => Map<string, FeatureCheck>>> {
  const checked = fs.features.filter((x) => x.driftCheck);
  if (pairs.length === 0) return new Map();
  if (checked.length === 0) return new Map(pairs.map((p) => [p.day, () => new Map()]));
  const dayOf = sqlIdent(dayColumn);
  const at = (day: string) => `TIMESTAMP ${sqlString(`${day} 00:00:00`)}`;
  const pairRows = pairs.map((p) => `(${at(p.day)}, ${at(p.previous)})`).join(', ');
  // A value's decile bin on deciles held as columns e<i>_<k>
  // (not list elements: extracting them per row cost more than the rest of the statement); no bin
  // without a value or without deciles.
  const bin = (value: string, edges: string, i: number) =>
    `CASE WHEN ${value} IS NULL OR ${edges}.e${i}_1 IS NULL THEN NULL ${DECILE_CUTS.map((k) => `WHEN ${value} <= ${edges}.e${i}_${k} THEN ${k - 1}`).join(' ')} ELSE 9 END`;
  const bins = checked.flatMap((f, i) => {
    const c = `v.${sqlIdent(f.name)}`;
    return [`${bin(c, 'own', i)} AS own${i}`, `${bin(c, 'before', i)} AS cur${i}`];
  });
  const edgeColumns = checked.flatMap((_, i) => DECILE_CUTS.map((k) => `q${i}[${k}] AS e${i}_${k}`));
  const sides = checked.flatMap((_, i) => [`own${i}`, `cur${i}`]);
  const rows = await queryRows<Record<string, number | null> & { day: string; n: number }>(
    conn,
    `WITH pairs(day, previous) AS (VALUES ${pairRows}),
          deciles AS (SELECT ${dayOf} AS day, ${checked.map((f, i) => `quantile_cont(${sqlIdent(f.name)}, ${DECILES}) AS q${i}`).join(', ')}
                      FROM ${relation} WHERE ${dayOf} IN (SELECT previous FROM pairs) GROUP BY 1),
          edges AS (SELECT day, ${edgeColumns.join(', ')} FROM deciles),
          bins AS (SELECT v.${dayOf} AS day, ${bins.join(', ')}
                   FROM ${relation} v LEFT JOIN edges own ON own.day = v.${dayOf}
                   LEFT JOIN pairs p ON p.day = v.${dayOf} LEFT JOIN edges before ON before.day = p.previous)
     SELECT strftime(day, '%Y-%m-%d') AS day, ${sides.map((s) => `${s}, grouping(${s}) AS grouped_${s}`).join(', ')}, count(*) AS n
     FROM bins GROUP BY GROUPING SETS (${sides.map((s) => `(day, ${s})`).join(', ')})`,
  );
  // Per side, day and feature: the bin counts.
  const counts = (side: 'own' | 'cur', i: number, day: string) => {
    const column = `${side}${i}`;
    const mine = rows.filter((r) => r.day === day && r[`grouped_${column}`] === 0 && r[column] !== null);
    return mine.length === 0 ? undefined : binned(mine.map((r) => ({ b: r[column]!, n: r.n })));
  };
  const maxPsi = fs.validation.maxPsi;
  return new Map(
    pairs.map((p) => {
      const byFeature = checked.map((f, i): [string, BinCounts | string] => {
        const previous = counts('own', i, p.previous);
        if (!previous) return [f.name, 'previous partition has no values'];
        return [f.name, { previous, current: counts('cur', i, p.day) ?? binned([]) }];
      });
      return [p.day, () => new Map(byFeature.map(([feature, c]) => [feature, distributionCheck(feature, maxPsi, c)]))];
    }),
  );
}

/** How many of a feature's values fall in each decile bin of the previous partition, on each side. */
interface BinCounts {
  previous: number[];
  current: number[];
}

/** Counts per decile bin (10 bins) from `{ b, n }` rows. */
function binned(rows: readonly { b: number; n: number }[]): number[] {
  const out = new Array<number>(10).fill(0);
  for (const r of rows) out[r.b] = Number(r.n);
  return out;
}

/** The check from both sides' bin counts, or skipped with the reason there is nothing to compare. */
function distributionCheck(feature: string, maxPsi: number, counts: BinCounts | string): FeatureCheck {
  const base = {
    subject: feature,
    gate: 'distribution' as const,
    expected: `PSI <= ${maxPsi} against the previous partition`,
    severity: 'warning' as const,
  };
  if (typeof counts === 'string') return { ...base, observed: 'n/a', verdict: 'skipped', detail: counts };
  // A partition whose values are all null has no distribution (its nulls check refuses it).
  if (counts.current.every((n) => n === 0))
    return { ...base, observed: 'n/a', verdict: 'skipped', detail: 'partition has no values' };
  const psi = psiFromCounts(Float64Array.from(counts.previous), Float64Array.from(counts.current));
  return {
    ...base,
    observed: formatNumber(psi),
    verdict: psi <= maxPsi ? 'pass' : 'fail',
    detail: `PSI ${formatNumber(psi)} > ${maxPsi} against the previous partition`,
  };
}
