import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openDuckDb, queryRows } from '../../src/data/duckdb';
import { PreparedStatementPool } from '../../src/data/duckdb-statement-pool';
import { offlinePartitionSql } from '../../src/features/feature-sql';
import { EventRowBatches } from '../../src/serving/event-batches';
import { EventRowQuery } from '../../src/serving/event-features';
import type { RequestRow } from '../../src/serving/request-schema';
import { servedModels } from '../../src/serving/served-models';

const served = servedModels().get('flight-delay')!;
const DAY = '2001-03-01';

/** Request rows of one day: midnight, the last second, an offset (ignored: contract times are wall-clock), the distance bounds. */
const REQUEST_ROWS: RequestRow[] = [
  { date: `${DAY}T00:00:00`, origin: 'ORD', destination: 'LAX', distance: 1745 },
  { date: `${DAY}T23:59:59`, origin: 'SEA', destination: 'BOS', distance: 6000 },
  { date: `${DAY}T08:30:00+02:00`, origin: 'ATL', destination: 'DFW', distance: 1 },
  { date: `${DAY}T12:05:00.250`, origin: 'DEN', destination: 'PHX', distance: 602 },
];

describe('event features of request rows', () => {
  it("are the offline partition's values for the same rows (the SQL of feature-sql.ts, over typed rows)", async () => {
    const duck = await openDuckDb();
    const pool = new PreparedStatementPool(duck);
    try {
      const conn = await duck.connect();
      await conn.run(
        'CREATE TABLE flights (date TIMESTAMP, delay BIGINT, distance BIGINT, origin VARCHAR, destination VARCHAR)',
      );
      for (const r of REQUEST_ROWS) {
        await conn.run('INSERT INTO flights VALUES (CAST($date AS TIMESTAMP), 0, $distance, $origin, $destination)', {
          date: r.date,
          distance: r.distance,
          origin: r.origin,
          destination: r.destination,
        });
      }
      const offline = await queryRows<Record<string, unknown>>(
        conn,
        `SELECT epoch_ms(date) AS event_ms, origin, destination, * EXCLUDE (date, origin, destination)
         FROM (${offlinePartitionSql(served.featureSet, served.spec.contract, 'flights', DAY)})`,
      );
      conn.closeSync();

      const online = await new EventRowQuery(served).run(pool, REQUEST_ROWS);
      const byRoute = new Map(offline.map((o) => [`${o.origin}-${o.destination}`, o]));
      for (const [i, row] of online.entries()) {
        const expected = byRoute.get(row.entityKeys.route!)!;
        assert.ok(expected, `row ${i}: offline has route ${row.entityKeys.route}`);
        assert.equal(row.eventTime.getTime(), expected.event_ms, `row ${i}: event time`);
        assert.deepEqual(row.entityKeys, {
          origin: REQUEST_ROWS[i]!.origin,
          destination: REQUEST_ROWS[i]!.destination,
          route: `${REQUEST_ROWS[i]!.origin}-${REQUEST_ROWS[i]!.destination}`,
        });
        for (const f of served.eventFeatures)
          assert.equal(row.eventFeatures[f.name], expected[f.name], `row ${i}: ${f.name}`);
      }
    } finally {
      pool.close();
      duck.closeSync();
    }
  });

  it('a null key column names no entity, in order with the other rows', async () => {
    const duck = await openDuckDb();
    const pool = new PreparedStatementPool(duck);
    try {
      const rows = await new EventRowQuery(served).run(pool, [
        REQUEST_ROWS[0]!,
        { ...REQUEST_ROWS[1]!, destination: null },
      ]);
      assert.deepEqual(
        rows.map((r) => r.entityKeys),
        [
          { origin: 'ORD', destination: 'LAX', route: 'ORD-LAX' },
          { origin: 'SEA', destination: null, route: null },
        ],
      );
    } finally {
      pool.close();
      duck.closeSync();
    }
  });

  it('requests computed together get the same rows as alone; a row DuckDB refuses fails its own request only', async () => {
    const duck = await openDuckDb();
    const pool = new PreparedStatementPool(duck);
    try {
      const query = new EventRowQuery(served);
      const alone = await Promise.all(REQUEST_ROWS.map((r) => query.run(pool, [r])));
      const batches = new EventRowBatches(pool);
      const together = await Promise.allSettled([
        ...REQUEST_ROWS.map((r) => batches.compute(served, [r])),
        batches.compute(served, [{ ...REQUEST_ROWS[0]!, date: 'not a time' }]),
        batches.compute(served, REQUEST_ROWS),
      ]);
      assert.deepEqual(
        together.slice(0, REQUEST_ROWS.length).map((a) => a.status === 'fulfilled' && a.value),
        alone,
      );
      const refused = together[REQUEST_ROWS.length]!;
      assert.equal(refused.status, 'rejected');
      assert.match(String((refused as PromiseRejectedResult).reason), /not a time/);
      assert.deepEqual(together[REQUEST_ROWS.length + 1], { status: 'fulfilled', value: alone.flat() });
    } finally {
      pool.close();
      duck.closeSync();
    }
  });
});
