import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { readMatrixFromDuckDB, type MatrixColumns } from '../../src/data/read-matrix';
import { checkMatrix } from '../../src/ml/feature-matrix';

const ROWS = 100_000;
const SPEC: MatrixColumns = { features: ['x', 'wave'], label: 'late', day: 'day', segments: ['hub', 'night'] };

/**
 * 100k rows over 20 days (5000 a day): x = i / 2, wave = sin(i) but NULL on every tenth row,
 * late on every third row, hub on every seventh, night NULL on every eleventh (outside), else i odd.
 * An extra column the spec does not name rides along.
 */
const GENERATED = `
  SELECT i / 2 AS x,
         CASE WHEN i % 10 = 0 THEN NULL ELSE sin(i) END AS wave,
         i % 3 = 0 AS late,
         DATE '2024-02-20' + CAST(i // 5000 AS INTEGER) AS day,
         i % 7 = 0 AS hub,
         CASE WHEN i % 11 = 0 THEN NULL ELSE i % 2 = 1 END AS night,
         'ignored' AS extra
  FROM range(${ROWS}) t(i) ORDER BY i`;

describe('readMatrixFromDuckDB', () => {
  let db: DuckDBInstance;
  let conn: DuckDBConnection;
  before(async () => {
    db = await DuckDBInstance.create(':memory:');
    conn = await db.connect();
  });
  after(() => conn.closeSync());

  it('reads 100k generated rows column by column', async () => {
    const m = await readMatrixFromDuckDB(conn, GENERATED, SPEC);
    checkMatrix(m);
    assert.equal(m.rows, ROWS);
    assert.deepEqual(m.features, ['x', 'wave']);
    assert.deepEqual(m.segments, ['hub', 'night']);
    assert.equal(m.days.length, 20);
    // 2024 is a leap year: 02-20 + 9 days is 02-29, + 10 is 03-01.
    assert.deepEqual(
      [m.days[0], m.days[9], m.days[10], m.days[19]],
      ['2024-02-20', '2024-02-29', '2024-03-01', '2024-03-10'],
    );
    const [x, wave] = m.columns as [Float64Array, Float64Array];
    const [hub, night] = m.segmentMasks as [Uint8Array, Uint8Array];
    for (let i = 0; i < ROWS; i++) {
      if (x[i] !== i / 2) assert.fail(`x[${i}] is ${x[i]}`);
      if (i % 10 === 0 ? !Number.isNaN(wave[i]) : Math.abs(wave[i]! - Math.sin(i)) > 1e-12)
        assert.fail(`wave[${i}] is ${wave[i]}`);
      if (m.labels[i] !== (i % 3 === 0 ? 1 : 0)) assert.fail(`label ${i} is ${m.labels[i]}`);
      if (m.dayIndex[i] !== Math.floor(i / 5000)) assert.fail(`day index ${i} is ${m.dayIndex[i]}`);
      if (hub[i] !== (i % 7 === 0 ? 1 : 0)) assert.fail(`hub ${i} is ${hub[i]}`);
      if (night[i] !== (i % 11 !== 0 && i % 2 === 1 ? 1 : 0)) assert.fail(`night ${i} is ${night[i]}`);
    }
  });

  it('accepts integer 0/1 labels and VARCHAR days', async () => {
    for (const type of ['TINYINT', 'INTEGER', 'BIGINT', 'UTINYINT']) {
      const m = await readMatrixFromDuckDB(
        conn,
        `SELECT CAST(i AS DOUBLE) AS x, CAST(i % 2 AS ${type}) AS y, CAST(DATE '2024-01-01' + CAST(i // 3 AS INTEGER) AS VARCHAR) AS d FROM range(7) t(i) ORDER BY i`,
        { features: ['x'], label: 'y', day: 'd', segments: [] },
      );
      assert.deepEqual([...m.labels], [0, 1, 0, 1, 0, 1, 0], type);
      assert.deepEqual(m.days, ['2024-01-01', '2024-01-02', '2024-01-03']);
      assert.deepEqual([...m.dayIndex], [0, 0, 0, 1, 1, 1, 2]);
    }
  });

  it('reads an empty result as an empty matrix', async () => {
    const m = await readMatrixFromDuckDB(conn, `SELECT * FROM (${GENERATED}) WHERE x < 0`, SPEC);
    assert.deepEqual(
      {
        rows: m.rows,
        days: m.days,
        columns: m.columns.map((c) => c.length),
        labels: m.labels.length,
        masks: m.segmentMasks.map((s) => s.length),
      },
      { rows: 0, days: [], columns: [0, 0], labels: 0, masks: [0, 0] },
    );
  });

  it('refuses a NULL label, naming the row', async () => {
    await assert.rejects(
      readMatrixFromDuckDB(
        conn,
        `SELECT 1.0::DOUBLE AS x, CASE WHEN i = 4 THEN NULL ELSE true END AS y, DATE '2024-01-01' AS d FROM range(6) t(i) ORDER BY i`,
        {
          features: ['x'],
          label: 'y',
          day: 'd',
          segments: [],
        },
      ),
      /label column y is NULL in row 4/,
    );
  });

  it('refuses a label that is not 0/1', async () => {
    await assert.rejects(
      readMatrixFromDuckDB(conn, `SELECT 1.0::DOUBLE AS x, 2 AS y, DATE '2024-01-01' AS d`, {
        features: ['x'],
        label: 'y',
        day: 'd',
        segments: [],
      }),
      /label column y is 2 in row 0, expected 0\/1 or a boolean/,
    );
  });

  it('refuses rows not ordered by day, a NULL day and a malformed day', async () => {
    const spec = { features: ['x'], label: 'y', day: 'd', segments: [] };
    await assert.rejects(
      readMatrixFromDuckDB(
        conn,
        `SELECT 1.0::DOUBLE AS x, true AS y, d FROM (VALUES (DATE '2024-01-02'), (DATE '2024-01-01')) v(d)`,
        spec,
      ),
      /not ordered by d: 2024-01-01 in row 1 after 2024-01-02/,
    );
    await assert.rejects(
      readMatrixFromDuckDB(conn, `SELECT 1.0::DOUBLE AS x, true AS y, NULL::DATE AS d`, spec),
      /day column d is NULL in row 0/,
    );
    await assert.rejects(
      readMatrixFromDuckDB(conn, `SELECT 1.0::DOUBLE AS x, true AS y, '2024-1-5' AS d`, spec),
      /has 2024-1-5 in row 0, expected a YYYY-MM-DD day/,
    );
  });

  it('refuses missing, duplicated and mistyped columns before reading', async () => {
    const base = { features: ['x'], label: 'y', day: 'd', segments: [] };
    await assert.rejects(
      readMatrixFromDuckDB(conn, `SELECT 1.0::DOUBLE AS x, true AS y`, base),
      /no day column d \(columns: x, y\)/,
    );
    await assert.rejects(
      readMatrixFromDuckDB(conn, `SELECT 1 AS x, true AS y, DATE '2024-01-01' AS d`, base),
      /feature column x is INTEGER, expected DOUBLE: cast it in the query/,
    );
    await assert.rejects(
      readMatrixFromDuckDB(conn, `SELECT 1.0::DOUBLE AS x, true AS y, DATE '2024-01-01' AS d, 1 AS s`, {
        ...base,
        segments: ['s'],
      }),
      /segment column s is INTEGER, expected BOOLEAN/,
    );
    await assert.rejects(
      readMatrixFromDuckDB(conn, `SELECT 1.0::DOUBLE AS x, 2.0::DOUBLE AS x, true AS y, DATE '2024-01-01' AS d`, base),
      /more than one column named x/,
    );
    await assert.rejects(
      readMatrixFromDuckDB(conn, `SELECT 1.0::DOUBLE AS x, 'yes' AS y, DATE '2024-01-01' AS d`, base),
      /label column y is VARCHAR, expected BOOLEAN or TINYINT/,
    );
  });
});
