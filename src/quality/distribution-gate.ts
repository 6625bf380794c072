import type { DuckDBConnection, JS } from '@duckdb/node-api';
import type { Column, Contract, Gates } from '../specs/contract-schema';
import { maxCheck, skippedCheck } from './checks';
import type { GateCheck } from './gate-report';
import { psiFromCounts } from '../stats/psi';
import { queryRows, sqlIdent } from '../data/duckdb';
import { toNumber } from './sql';

type DistributionConfig = NonNullable<Gates['distribution']>;

/** Deciles of the reference: 9 inner edges, 10 bins with -inf/+inf as the outer edges. */
const QUANTILES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
const BINS = QUANTILES.length + 1;

/** Both sides' non-null values of one column, tagged by side. */
function sides(column: string, reference: string, current: string): string {
  return `SELECT 'reference' AS side, ${column} AS v FROM ${reference} WHERE ${column} IS NOT NULL
          UNION ALL SELECT 'current', ${column} FROM ${current} WHERE ${column} IS NOT NULL`;
}

/**
 * Counts per bin on each side. Edges are the reference quantiles (quantile_cont, linear interpolation); the
 * CASE takes the first edge >= v, which makes the bins right-closed, (e[i-1], e[i]]. Empty bins are handled by
 * the project's one PSI convention (src/stats/psi.ts: an empty bin gets a share of 1e-4). The edges are fetched first and bound as
 * parameters: comparing against constants is several times faster than indexing a joined list per row.
 */
async function numericCounts(conn: DuckDBConnection, column: string, reference: string, current: string) {
  const [row] = await queryRows(
    conn,
    `SELECT quantile_cont(${column}, [${QUANTILES.join(', ')}]) AS e FROM ${reference}`,
  );
  const edges = Object.fromEntries(((row!.e ?? []) as JS[]).map((e, i) => [`e${i}`, toNumber(e)]));
  const bin = `CASE ${QUANTILES.map((_, i) => `WHEN v <= CAST($e${i} AS DOUBLE) THEN ${i}`).join(' ')} ELSE ${BINS - 1} END`;
  const counts = { reference: new Array<number>(BINS).fill(0), current: new Array<number>(BINS).fill(0) };
  // No edges means the reference has no values: every count stays 0 and the caller skips the column.
  if (Object.keys(edges).length === 0) return counts;
  const rows = await queryRows(
    conn,
    `SELECT side, ${bin} AS bin, count(*) AS n FROM (${sides(column, reference, current)}) GROUP BY ALL`,
    edges,
  );
  for (const r of rows) counts[r.side as 'reference' | 'current'][toNumber(r.bin!)] = toNumber(r.n!);
  return counts;
}

/** Counts per category on the union of both sides' categories (a category absent on one side counts 0 there). */
async function categoryCounts(conn: DuckDBConnection, column: string, reference: string, current: string) {
  const rows = await queryRows(
    conn,
    `SELECT side, CAST(v AS VARCHAR) AS category, count(*) AS n FROM (${sides(column, reference, current)}) GROUP BY ALL`,
  );
  const categories = [...new Set(rows.map((row) => String(row.category)))];
  const index = new Map(categories.map((c, i) => [c, i]));
  const counts = {
    reference: new Array<number>(categories.length).fill(0),
    current: new Array<number>(categories.length).fill(0),
  };
  for (const row of rows)
    counts[row.side as 'reference' | 'current'][index.get(String(row.category))!] = toNumber(row.n!);
  return counts;
}

async function columnCheck(
  conn: DuckDBConnection,
  config: DistributionConfig,
  column: Column,
  reference: string,
  current: string,
): Promise<GateCheck> {
  const target = { gate: 'distribution', subject: column.name, severity: config.severity } as const;
  const expected = `PSI <= ${config.maxPsi}`;
  const numeric = column.type === 'integer' || column.type === 'double';
  if (!numeric && column.type !== 'string' && column.type !== 'boolean') {
    return skippedCheck(
      target,
      expected,
      `PSI needs a numeric or categorical column, ${column.name} is ${column.type}`,
    );
  }
  const name = sqlIdent(column.name);
  const counts = numeric
    ? await numericCounts(conn, name, reference, current)
    : await categoryCounts(conn, name, reference, current);
  const total = (list: number[]) => list.reduce((a, b) => a + b, 0);
  if (total(counts.reference) === 0 || total(counts.current) === 0) {
    return skippedCheck(target, expected, `no non-null ${column.name} values on one side to compare`);
  }
  return maxCheck(target, {
    label: 'PSI',
    value: psiFromCounts(Float64Array.from(counts.reference), Float64Array.from(counts.current)),
    max: config.maxPsi,
    context: numeric ? `${BINS} reference-decile bins` : `${counts.reference.length} categories`,
  });
}

/** PSI of each configured column of the accepted rows against the last published batch of the same contract. */
export async function distributionChecks(
  conn: DuckDBConnection,
  config: DistributionConfig,
  contract: Contract,
  current: string,
  reference: string | null,
): Promise<GateCheck[]> {
  const checks: GateCheck[] = [];
  for (const name of config.columns) {
    // The contract schema rejects distribution columns it does not declare.
    const column = contract.columns.find((c) => c.name === name)!;
    checks.push(
      reference === null
        ? skippedCheck(
            { gate: 'distribution', subject: name, severity: config.severity },
            `PSI <= ${config.maxPsi}`,
            'no earlier published batch',
          )
        : await columnCheck(conn, config, column, reference, current),
    );
  }
  return checks;
}
