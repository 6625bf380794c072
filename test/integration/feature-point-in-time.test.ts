import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { offlinePartitionSql } from '../../src/features/feature-sql';
import { sqlString } from '../../src/data/duckdb';
import { loadSpec } from '../../src/specs';
import { FLIGHTS, query } from '../helpers/sources';

/**
 * Point-in-time correctness: rows planted later the same day and on the following days, at the very
 * airports and routes of the day's flights, with extreme delays, change no feature of that day.
 */
test('a planted future value does not leak into any feature', async () => {
  const spec = loadSpec('flights');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pit-'));
  const clean = path.join(dir, 'clean.parquet');
  const planted = path.join(dir, 'planted.parquet');
  const day = '2001-01-10';
  await query(
    `COPY (SELECT * FROM read_parquet(${sqlString(FLIGHTS)}) WHERE date < TIMESTAMP '2001-01-13') TO ${sqlString(clean)} (FORMAT parquet)`,
  );
  // Copies of the day's own flights, moved to 23:59 of the same day and to the next two days, all
  // 999 minutes late and marked by an impossible distance.
  await query(
    `COPY (
       SELECT * FROM read_parquet(${sqlString(clean)})
       UNION ALL
       SELECT date_trunc('day', date) + INTERVAL (d) DAY + INTERVAL 23 HOUR + INTERVAL 59 MINUTE AS date, 999 AS delay, 5999 AS distance, origin, destination
       FROM read_parquet(${sqlString(clean)}), range(0, 3) t(d)
       WHERE CAST(date AS DATE) = DATE '${day}'
     ) TO ${sqlString(planted)} (FORMAT parquet)`,
  );
  const features = spec.featureSet!.features.map((f) => f.name);
  const compute = (file: string) =>
    query<Record<string, number | string>>(
      `SELECT * FROM (${offlinePartitionSql(spec.featureSet!, spec.contract, `read_parquet(${sqlString(file)})`, day)}) WHERE distance <> 5999`,
    );
  const [before, after] = [await compute(clean), await compute(planted)];
  assert.ok(before.length > 10_000, 'a real day of flights');
  assert.equal(after.length, before.length);
  const [plantedCount] = await query<{ n: number }>(
    `SELECT count(*) AS n FROM read_parquet(${sqlString(planted)}) WHERE distance = 5999`,
  );
  assert.ok(plantedCount!.n > 3 * 10_000, 'the future was planted');
  let compared = 0;
  for (let i = 0; i < before.length; i++) {
    for (const f of features) {
      assert.equal(after[i]![f], before[i]![f], `row ${i} feature ${f} changed by future rows`);
      compared++;
    }
  }
  assert.equal(compared, before.length * features.length);
  fs.rmSync(dir, { recursive: true, force: true });
});
