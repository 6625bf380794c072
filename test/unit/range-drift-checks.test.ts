import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  openDuckDb,
  queryRows,
  sqlIdent,
  sqlString,
  withConnection,
  type DuckDBConnection,
} from '../../src/data/duckdb';
import { formatNumber } from '../../src/quality/gate-math';
import { psiFromCounts } from '../../src/stats/psi';
import { loadSpec } from '../../src/specs';
import {
  driftChecks,
  driftChecksAgainstDays,
  featureStats,
  featureStatsByDay,
} from '../../src/features/validate-features';

/**
 * PSI as the distribution check defines it, computed apart in JavaScript: the previous partition's
 * deciles (DuckDB's quantile_cont), each value of both sides in the first bin whose edge it does not
 * exceed (the tenth past the last edge), PSI of the two sides' bin counts. Undefined when the previous
 * side has no values.
 */
async function referencePsi(conn: DuckDBConnection, feature: string, file: string, previousFile: string) {
  const c = sqlIdent(feature);
  const [edges] = await queryRows<{ q: number[] | null }>(
    conn,
    `SELECT quantile_cont(${c}, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]) AS q FROM read_parquet(${sqlString(previousFile)})`,
  );
  const q = edges!.q;
  if (!q) return undefined;
  const counts = async (f: string) => {
    const bins = new Float64Array(10);
    const rows = await queryRows<{ v: number }>(
      conn,
      `SELECT ${c} AS v FROM read_parquet(${sqlString(f)}) WHERE ${c} IS NOT NULL`,
    );
    for (const { v } of rows) {
      const bin = q.findIndex((edge) => v <= edge);
      bins[bin === -1 ? 9 : bin]! += 1;
    }
    return bins;
  };
  return psiFromCounts(await counts(previousFile), await counts(file));
}

/**
 * A range's days checked together (one statement for every drift-checked feature over all the days' rows)
 * must judge each day as checking its own file against its previous day's file does.
 */
describe('checks of a range of days, in a few statements', () => {
  it('give each day the statistics and distribution checks its own files give', async () => {
    const set = loadSpec('flights').featureSet!;
    const checked = set.features.filter((f) => f.driftCheck);
    assert.ok(checked.length > 1, 'the flights feature set has several drift-checked features');
    const days = ['2001-01-08', '2001-01-09', '2001-01-10', '2001-01-11'];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'range-checks-'));
    const duck = await openDuckDb();
    try {
      await withConnection(duck, async (conn) => {
        // Each day its own distribution (a shift on the third), some nulls; on the last day the first
        // feature and the first drift-checked one are all null.
        const allNullOnLastDay = [0, set.features.indexOf(checked[0]!)];
        const columns = set.features.map(
          (f, j) =>
            `CASE WHEN d = 3 AND ${allNullOnLastDay.includes(j)} THEN NULL WHEN hash(i, ${j}) % 17 = 0 THEN NULL ELSE (hash(i * 31 + ${j}) % 1000) / 1000.0 * ${f.range[1] - f.range[0]} + ${f.range[0]} + (CASE WHEN d = 2 THEN ${0.3 * (f.range[1] - f.range[0])} ELSE 0 END) END AS "${f.name}"`,
        );
        await conn.run(
          `CREATE TEMP TABLE rows AS SELECT TIMESTAMP '2001-01-08' + to_days(d::INTEGER) AS day, ${columns.join(', ')}
           FROM range(4) t(d), range(3000) r(i)`,
        );
        const file = (day: string) => path.join(dir, `${day}.parquet`);
        for (const day of days)
          await conn.run(
            `COPY (SELECT * EXCLUDE (day) FROM rows WHERE day = TIMESTAMP '${day}') TO ${sqlString(file(day))} (FORMAT parquet)`,
          );
        // Each day against the day before it, and the first day against the last, whose first
        // drift-checked feature has no values to take deciles from.
        const pairs = [
          ...days.slice(1).map((day, i) => ({ day, previous: days[i]! })),
          { day: days[0]!, previous: days[3]! },
        ];
        const byDay = await driftChecksAgainstDays(conn, set, 'rows', 'day', pairs);
        const stats = await featureStatsByDay(conn, set, 'rows', 'day');
        for (const { day, previous } of pairs) {
          const checks = byDay.get(day)!();
          assert.deepEqual(checks, await driftChecks(conn, set, file(day), file(previous)), day);
          for (const f of checked) {
            const check = checks.get(f.name)!;
            if (check.verdict === 'skipped') continue;
            const psi = await referencePsi(conn, f.name, file(day), file(previous));
            assert.equal(check.observed, formatNumber(psi!), `${day} ${f.name} PSI`);
          }
          const own = await featureStats(conn, set, file(day));
          assert.equal(stats.get(day)!.rows, own.rows);
          for (const f of set.features) {
            const { mean, ...rest } = stats.get(day)!.features[f.name]!;
            const { mean: ownMean, ...ownRest } = own.features[f.name]!;
            assert.deepEqual(rest, ownRest, `${day} ${f.name}`);
            assert.ok(
              mean === ownMean || Math.abs(mean! - ownMean!) <= 1e-12 * Math.max(1, Math.abs(ownMean!)),
              `${day} ${f.name} mean ${mean} against ${ownMean}`,
            );
          }
        }
        assert.equal(
          byDay.get(days[3]!)!().get(checked[0]!.name)!.detail,
          'partition has no values',
          'a day whose values are all null has no distribution to compare',
        );
        assert.equal(
          byDay.get(days[0]!)!().get(checked[0]!.name)!.detail,
          'previous partition has no values',
          'a day whose previous partition has only nulls has no deciles to be binned on',
        );
        assert.notEqual(
          byDay.get(days[0]!)!().get(checked[1]!.name)!.verdict,
          'skipped',
          'the other features of that day are still compared',
        );
        const verdicts = [...byDay.values()].flatMap((checks) => [...checks().values()].map((c) => c.verdict));
        assert.ok(
          verdicts.includes('fail') && verdicts.includes('pass'),
          `a shifted day fails, others pass: ${verdicts}`,
        );
      });
    } finally {
      duck.closeSync();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
