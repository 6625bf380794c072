import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BIGINT, LIST, listValue } from '@duckdb/node-api';
import { openDuckDb, queryRows } from '../../src/data/duckdb';
import { PreparedStatementPool } from '../../src/data/duckdb-statement-pool';

describe('PreparedStatementPool', () => {
  it('binds each query to its own parameters, also when many of the same statement run at once', async () => {
    const duck = await openDuckDb();
    const pool = new PreparedStatementPool(duck);
    try {
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          pool.query<{ x: number; s: string }>('SELECT CAST($a AS INTEGER) * 2 AS x, CAST($b AS VARCHAR) AS s', {
            a: i,
            b: `row ${i}`,
          }),
        ),
      );
      assert.deepEqual(
        answers,
        Array.from({ length: 40 }, (_, i) => [{ x: i * 2, s: `row ${i}` }]),
      );
    } finally {
      pool.close();
      duck.closeSync();
    }
  });

  it('keeps answering right past the per-connection statement bound (older statements are dropped, not reused wrongly)', async () => {
    const duck = await openDuckDb();
    const pool = new PreparedStatementPool(duck);
    try {
      for (let round = 0; round < 2; round++) {
        for (let k = 0; k < 50; k++) {
          const [row] = await pool.query<{ v: number }>(`SELECT CAST($n AS INTEGER) + ${k} AS v`, { n: round });
          assert.equal(row!.v, round + k);
        }
      }
    } finally {
      pool.close();
      duck.closeSync();
    }
  });

  it('reads results of several chunks whole, as rowsOf does: BIGINT as numbers, nulls, lists as given', async () => {
    const duck = await openDuckDb();
    const pool = new PreparedStatementPool(duck);
    try {
      const sql =
        'SELECT i, CASE WHEN i % 2 = 0 THEN CAST(i AS VARCHAR) END AS s, i / 4 AS d FROM unnest(CAST($ids AS BIGINT[])) AS t(i)';
      const ids = Array.from({ length: 5000 }, (_, i) => i); // more than one 2048-row chunk
      const rows = await pool.query(sql, { ids: listValue(ids) }, { ids: LIST(BIGINT) });
      const conn = await duck.connect();
      const expected = await queryRows(conn, sql, { ids: listValue(ids) });
      conn.closeSync();
      assert.equal(rows.length, 5000);
      assert.deepEqual(rows, expected);
      assert.deepEqual(rows[4999], { i: 4999, s: null, d: 1249.75 });
    } finally {
      pool.close();
      duck.closeSync();
    }
  });

  it('refuses queries once closed', async () => {
    const duck = await openDuckDb();
    const pool = new PreparedStatementPool(duck);
    await pool.query('SELECT 1 AS one', {});
    pool.close();
    await assert.rejects(pool.query('SELECT 1 AS one', {}), /closed/);
    duck.closeSync();
  });
});
