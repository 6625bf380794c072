import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openDuckDb, queryRows, withConnection } from '../../src/data/duckdb';
import {
  offlinePartitionSql,
  offlineRangeOrder,
  offlineRangeSql,
  onlineRangeSnapshotSql,
  onlineSnapshotSql,
  RANGE_DAY_COLUMN,
} from '../../src/features/feature-sql';
import { addDays } from '../../src/features/partition-dates';
import { FeatureSetSchema } from '../../src/specs/feature-schema';
import { loadSpec } from '../../src/specs';

/**
 * The range SQL (a backfill's days in one statement) must give every day the rows its own partition's
 * SQL gives, and leave the online snapshot that running the days one by one leaves. The feature set has
 * two windows on one entity and a key seen only now and then; the days have a gap, as a range retried
 * after a refused day does.
 */
const contract = loadSpec('flights').contract;
const set = FeatureSetSchema.parse({
  name: 'range_sql',
  version: '1',
  entities: [{ name: 'origin', key: 'origin' }],
  features: [
    {
      name: 'late_3d',
      description: 'late flights, 3 days',
      kind: 'entity',
      entity: 'origin',
      windowDays: 3,
      sql: 'count(*) FILTER (WHERE delay >= 15)',
      fillMissing: 0,
      range: [0, 1e6],
    },
    {
      name: 'delay_sum_7d',
      description: 'delay minutes, 7 days',
      kind: 'entity',
      entity: 'origin',
      windowDays: 7,
      sql: 'sum(delay)',
      range: [-1e9, 1e9],
    },
    {
      name: 'longest_7d',
      description: 'longest flight, 7 days',
      kind: 'entity',
      entity: 'origin',
      windowDays: 7,
      sql: 'max(distance)',
      range: [0, 1e6],
    },
    { name: 'hour', description: 'hour', kind: 'event', sql: 'hour(date)', range: [0, 23] },
  ],
  validation: { maxOutOfRangeShare: 0, maxPsi: 0.25, minRowsRatio: 0.3, minHistoryDays: 0 },
});
const DAYS = ['2001-01-10', '2001-01-11', '2001-01-12', '2001-01-15', '2001-01-16'];

describe('feature SQL of a range of days', () => {
  it('gives each day its own partition rows and leaves the day-by-day online snapshot', async () => {
    const duck = await openDuckDb();
    try {
      await withConnection(duck, async (conn) => {
        // 2001-01-01..19; airport A flies daily, B every third day, C only on the 2nd and the 13th; D only
        // on the 6th (its newest snapshot is the 12th's), E only on the 1st (in no window of the range), F
        // only on the 9th (the edge of the 10th's 7-day window).
        await conn.run(`CREATE TEMP TABLE flights AS
          SELECT TIMESTAMP '2001-01-01' + to_days(d::INTEGER) + to_hours((i % 24)::INTEGER) AS date,
                 ((d * 7 + i * 13) % 60)::BIGINT - 10 AS delay, (100 + (d * 31 + i) % 900)::BIGINT AS distance,
                 origin, 'Z' AS destination
          FROM range(19) t(d), range(40) r(i), (VALUES ('A'), ('B'), ('C'), ('D'), ('E'), ('F')) o(origin)
          WHERE origin = 'A' OR (origin = 'B' AND d % 3 = 0) OR (origin = 'C' AND d IN (1, 12))
             OR (origin = 'D' AND d = 5) OR (origin = 'E' AND d = 0) OR (origin = 'F' AND d = 8)`);
        // A flight without a time and one without an origin: in no window, and no key.
        await conn.run(
          `INSERT INTO flights VALUES (NULL, 5, 100, 'A', 'Z'), (TIMESTAMP '2001-01-14 10:00', 5, 100, NULL, 'Z')`,
        );
        const range = await queryRows<Record<string, unknown>>(
          conn,
          `SELECT strftime(${RANGE_DAY_COLUMN}, '%Y-%m-%d') AS day, * EXCLUDE (${RANGE_DAY_COLUMN})
           FROM (${offlineRangeSql(set, contract, 'flights', DAYS)}) ORDER BY day, ${offlineRangeOrder(contract)}`,
        );
        for (const day of DAYS) {
          const own = await queryRows<Record<string, unknown>>(
            conn,
            offlinePartitionSql(set, contract, 'flights', day),
          );
          assert.ok(own.length > 0, `${day} has rows`);
          assert.deepEqual(
            range.filter((r) => r.day === day).map(({ day: _, ...row }) => row),
            own,
            `${day}: the range's rows are the partition's`,
          );
        }

        const dayByDay = new Map<string, Record<string, unknown>>();
        for (const day of DAYS)
          for (const row of await queryRows<Record<string, unknown> & { entity_key: string }>(
            conn,
            onlineSnapshotSql(set, contract, 'flights', 'origin', addDays(day, 1)),
          ))
            dayByDay.set(row.entity_key, { ...row, valid_from: addDays(day, 1) });
        const snapshot = await queryRows(conn, onlineRangeSnapshotSql(set, contract, 'flights', 'origin', DAYS));
        assert.deepEqual(
          snapshot,
          [...dayByDay.keys()].sort().map((k) => dayByDay.get(k)),
          'the snapshot upserting the days one by one leaves',
        );
        assert.ok(
          snapshot.some((r) => (r as { entity_key: string }).entity_key === 'C'),
          'C, unseen since the 13th, keeps its last snapshot',
        );
      });
    } finally {
      duck.closeSync();
    }
  });
});
