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

/** The distribution check of each drift-checked feature of a partition's file against its previous partition's. */
export async function driftChecks(
  conn: DuckDBConnection,
  fs: FeatureSet,
  file: string,
  previousFile: string | undefined,
): Promise<Map<string, FeatureCheck>> {
  const drift = new Map<string, FeatureCheck>();
  for (const f of fs.features.filter((x) => x.driftCheck))
    drift.set(f.name, await driftCheck(conn, f.name, file, previousFile, fs.validation.maxPsi));
  return drift;
}

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

/** PSI on the previous partition's deciles (the project's one PSI convention, src/stats/psi.ts). */
async function driftCheck(
  conn: DuckDBConnection,
  feature: string,
  file: string,
  previousFile: string | undefined,
  maxPsi: number,
): Promise<FeatureCheck> {
  if (!previousFile) return distributionCheck(feature, maxPsi, 'no previous partition');
  const c = sqlIdent(feature);
  const [edges] = await queryRows<{ q: number[] | null }>(
    conn,
    `SELECT quantile_cont(${c}, ${DECILES}) AS q FROM read_parquet(${sqlString(previousFile)}) WHERE ${c} IS NOT NULL`,
  );
  if (!edges?.q) return distributionCheck(feature, maxPsi, 'previous partition has no values');
  const bin = `CASE ${edges.q.map((e, i) => `WHEN ${c} <= ${e} THEN ${i}`).join(' ')} ELSE ${edges.q.length} END`;
  const counts = async (f: string) => {
    const rows = await queryRows<{ b: number; n: number }>(
      conn,
      `SELECT ${bin} AS b, count(*) AS n FROM read_parquet(${sqlString(f)}) WHERE ${c} IS NOT NULL GROUP BY 1`,
    );
    return binned(rows);
  };
  return distributionCheck(feature, maxPsi, { previous: await counts(previousFile), current: await counts(file) });
}

/**
 * The distribution checks of days of `relation` (day in its TIMESTAMP `dayColumn`) each against another
 * day of it, its previous partition (`pairs`), counted in one statement per drift-checked feature: the
 * same deciles, bins and PSI as a check of each day's file against its previous one's. Per day, a
 * function gives the checks: PSI is computed when asked, so a day refused before validation never is.
 */
export async function driftChecksAgainstDays(
  conn: DuckDBConnection,
  fs: FeatureSet,
  relation: string,
  dayColumn: string,
  pairs: readonly { day: string; previous: string }[],
): Promise<Map<string, () => Map<string, FeatureCheck>>> {
  if (pairs.length === 0) return new Map();
  // Per day and drift-checked feature: both sides' bin counts, or why there is nothing to compare.
  const counted = new Map(pairs.map((p) => [p.day, new Map<string, BinCounts | string>()]));
  const dayOf = sqlIdent(dayColumn);
  const at = (day: string) => `TIMESTAMP ${sqlString(`${day} 00:00:00`)}`;
  const pairRows = pairs.map((p) => `(${at(p.day)}, ${at(p.previous)})`).join(', ');
  const cuts = Array.from({ length: 9 }, (_, i) => i + 1);
  for (const f of fs.features.filter((x) => x.driftCheck)) {
    const c = sqlIdent(f.name);
    // A side's values binned on the previous day's deciles (a CASE as the per-day check writes it).
    const bin = `CASE ${cuts.map((k) => `WHEN v.${c} <= k.e${k} THEN ${k - 1}`).join(' ')} ELSE 9 END`;
    const side = (name: string, of: 'day' | 'previous') =>
      `SELECT strftime(k.day, '%Y-%m-%d') AS day, '${name}' AS side, ${bin} AS b, count(*) AS n FROM cuts k JOIN ${relation} v ON v.${dayOf} = k.${of} WHERE v.${c} IS NOT NULL GROUP BY ALL`;
    const rows = await queryRows<{ day: string; side: 'previous' | 'current'; b: number; n: number }>(
      conn,
      `WITH pairs(day, previous) AS (VALUES ${pairRows}),
            edges AS (SELECT ${dayOf} AS day, quantile_cont(${c}, ${DECILES}) AS q FROM ${relation} WHERE ${c} IS NOT NULL GROUP BY 1),
            cuts AS (SELECT p.day, p.previous, ${cuts.map((k) => `e.q[${k}] AS e${k}`).join(', ')} FROM pairs p JOIN edges e ON e.day = p.previous)
       ${side('previous', 'previous')} UNION ALL ${side('current', 'day')}`,
    );
    for (const p of pairs) {
      const mine = rows.filter((r) => r.day === p.day);
      const previous = mine.filter((r) => r.side === 'previous');
      counted
        .get(p.day)!
        .set(
          f.name,
          previous.length === 0
            ? 'previous partition has no values'
            : { previous: binned(previous), current: binned(mine.filter((r) => r.side === 'current')) },
        );
    }
  }
  const maxPsi = fs.validation.maxPsi;
  return new Map(
    [...counted].map(([day, byFeature]) => [
      day,
      () => new Map([...byFeature].map(([feature, counts]) => [feature, distributionCheck(feature, maxPsi, counts)])),
    ]),
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
  const psi = psiFromCounts(Float64Array.from(counts.previous), Float64Array.from(counts.current));
  return {
    ...base,
    observed: formatNumber(psi),
    verdict: psi <= maxPsi ? 'pass' : 'fail',
    detail: `PSI ${formatNumber(psi)} > ${maxPsi} against the previous partition`,
  };
}
