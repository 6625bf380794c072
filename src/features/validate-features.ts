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
  const [row] = await queryRows<Record<string, number | null>>(
    conn,
    `SELECT count(*) AS rows, ${parts.join(', ')} FROM read_parquet(${sqlString(file)})`,
  );
  const features: FeatureStats['features'] = {};
  fs.features.forEach((f, i) => {
    features[f.name] = {
      nulls: row![`n${i}`]!,
      min: row![`lo${i}`] ?? null,
      max: row![`hi${i}`] ?? null,
      mean: row![`mean${i}`] ?? null,
      outOfRange: row![`out${i}`]!,
    };
  });
  return { rows: row!.rows!, features };
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
    if (f.driftCheck) checks.push(await driftCheck(conn, f.name, file, previousFile, fs.validation.maxPsi));
  }
  return { stats, checks };
}

/** PSI on the previous partition's deciles (the project's one PSI convention, src/stats/psi.ts). */
async function driftCheck(
  conn: DuckDBConnection,
  feature: string,
  file: string,
  previousFile: string | undefined,
  maxPsi: number,
): Promise<FeatureCheck> {
  const base = {
    subject: feature,
    gate: 'distribution' as const,
    expected: `PSI <= ${maxPsi} against the previous partition`,
    severity: 'warning' as const,
  };
  if (!previousFile) return { ...base, observed: 'n/a', verdict: 'skipped', detail: 'no previous partition' };
  const c = sqlIdent(feature);
  const [edges] = await queryRows<{ q: number[] | null }>(
    conn,
    `SELECT quantile_cont(${c}, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]) AS q FROM read_parquet(${sqlString(previousFile)}) WHERE ${c} IS NOT NULL`,
  );
  if (!edges?.q) return { ...base, observed: 'n/a', verdict: 'skipped', detail: 'previous partition has no values' };
  const bin = `CASE ${edges.q.map((e, i) => `WHEN ${c} <= ${e} THEN ${i}`).join(' ')} ELSE ${edges.q.length} END`;
  const counts = async (f: string) => {
    const rows = await queryRows<{ b: number; n: number }>(
      conn,
      `SELECT ${bin} AS b, count(*) AS n FROM read_parquet(${sqlString(f)}) WHERE ${c} IS NOT NULL GROUP BY 1`,
    );
    const out = new Array<number>(edges.q!.length + 1).fill(0);
    for (const r of rows) out[r.b] = r.n;
    return out;
  };
  const psi = psiFromCounts(Float64Array.from(await counts(previousFile)), Float64Array.from(await counts(file)));
  return {
    ...base,
    observed: formatNumber(psi),
    verdict: psi <= maxPsi ? 'pass' : 'fail',
    detail: `PSI ${formatNumber(psi)} > ${maxPsi} against the previous partition`,
  };
}
