import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startIngestion } from '../../src/client/ingestion';
import { startBackfill, startFeaturePartition } from '../../src/client/features';
import { sha256Files } from '../../src/data/artifact-store';
import { artifactStoreFor } from '../../src/data/open-artifact-store';
import { sqlString } from '../../src/data/duckdb';
import { partitionRange } from '../../src/features/partition-dates';
import { datasetFiles } from '../../src/data/dataset-files';
import { loadSpec } from '../../src/specs';
import { openMetadataStore } from '../../src/store/database';
import { FLIGHTS, ingestQuery, query } from '../helpers/sources';
import { testConfig, uniqueTaskQueue, useWorker } from '../helpers/temporal';

/**
 * A daily dataset: the flights of January 2001 delivered night by night, one file per day. Each day
 * is its own partition; features computed from the nights are byte for byte those computed from one
 * snapshot of the same rows; a row of another day is refused with its reason; a re-delivered day
 * replaces only itself.
 */
/** The bundled daily variant of flights (src/specs/flights-nightly.ts). */
const NIGHTLY = 'flights-nightly';

const config = testConfig();
const taskQueue = uniqueTaskQueue('daily-partitions');
const temporal = useWorker(config, taskQueue);
const artifacts = artifactStoreFor(config);
const NIGHTS = partitionRange('2001-01-01', '2001-01-12');
const FEATURE_DAYS = partitionRange('2001-01-08', '2001-01-12');
const dayPartition = (day: string) =>
  artifacts.openKey({ kind: 'datasets', name: 'flights_nightly', version: '1.0.0', partition: day });
const partitionHash = async (day: string) => sha256Files(await artifacts.parquetFiles(await dayPartition(day)));

const deliver = (day: string, select: string) =>
  ingestQuery(temporal.client, config, { spec: NIGHTLY, batch: day, select, taskQueue });
const dayRows = (day: string) =>
  `SELECT * FROM flights WHERE CAST(date AS DATE) = DATE ${sqlString(day)} ORDER BY date, origin, destination`;

before(async () => {
  await temporal.ready();
  for (const day of NIGHTS) await deliver(day, dayRows(day));
  await ingestQuery(temporal.client, config, {
    spec: 'flights',
    batch: 'upto-0112',
    select: `SELECT * FROM flights WHERE date < TIMESTAMP '2001-01-13'`,
    taskQueue,
  });
});

describe('a dataset delivered night by night', () => {
  test('features from the nightly partitions equal features from the snapshot', async () => {
    // The nights by ranges of days (one statement for several days), the snapshot day by day.
    const nightly = await startBackfill(temporal.client, config, {
      spec: NIGHTLY,
      from: FEATURE_DAYS[0]!,
      to: FEATURE_DAYS.at(-1)!,
      daysPerRun: 3,
      taskQueue,
    });
    assert.deepEqual(await nightly.result(), { total: 5, alreadyDone: 0, computed: 5 });
    const store = await openMetadataStore(config.databaseUrl);
    try {
      for (const day of FEATURE_DAYS) {
        const fromNights = await store.features.get('flight_delay_nightly', '1', day);
        const fromSnapshot = await (
          await startFeaturePartition(temporal.client, config, { spec: 'flights', partition: day, taskQueue })
        ).result();
        const nightByNight = await (
          await startFeaturePartition(temporal.client, config, { spec: NIGHTLY, partition: day, taskQueue })
        ).result();
        assert.ok(fromSnapshot.rows > 10_000, `${day}: a real partition`);
        assert.equal(fromNights?.output_hash, fromSnapshot.offlineHash, `${day}: nights (by range) = snapshot`);
        assert.equal(nightByNight.offlineHash, fromSnapshot.offlineHash, `${day}: nights (one day) = snapshot`);
      }
    } finally {
      await store.close();
    }
  });

  test('a late row of an earlier day is refused with its reason and leaves that day as it was', async () => {
    const untouched = await partitionHash('2001-01-05');
    const late = await deliver(
      '2001-01-13',
      `SELECT * FROM (${dayRows('2001-01-13')}) UNION ALL (SELECT * FROM flights WHERE CAST(date AS DATE) = DATE '2001-01-05' LIMIT 1)`,
    );
    assert.equal(late.rowsRead, late.rowsAccepted + late.rowsRejected, 'every row accepted or kept as a dead letter');
    const dead = await query<{ reason: string; record: string }>(
      `SELECT reason, record FROM read_parquet(${sqlString(`${await artifacts.open(late.deadLettersUri)}/*.parquet`)}) WHERE reason LIKE '%partition%'`,
    );
    assert.deepEqual(
      dead.map((d) => d.reason),
      ['date partition (2001-01-05)'],
    );
    assert.match(JSON.parse(dead[0]!.record).date, /^2001-01-05/);
    const [held] = await query<{ days: string }>(
      `SELECT string_agg(DISTINCT CAST(CAST(date AS DATE) AS VARCHAR), ',') AS days FROM read_parquet(${sqlString(`${await dayPartition('2001-01-13')}/*.parquet`)})`,
    );
    assert.equal(held!.days, '2001-01-13', 'the night holds its own day only');
    assert.equal(await partitionHash('2001-01-05'), untouched, 'the late row did not touch its day');
  });

  test('a re-delivered day replaces only itself; a batch id that is not a day is refused', async () => {
    const neighbours = ['2001-01-09', '2001-01-11'];
    const hashes = await Promise.all(neighbours.map(partitionHash));
    const again = await deliver('2001-01-10', `${dayRows('2001-01-10')} LIMIT 15000`);
    assert.equal(again.rowsRead, 15_000);
    const [n] = await query<{ n: number }>(
      `SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(`${await dayPartition('2001-01-10')}/*.parquet`)})`,
    );
    assert.equal(n!.n, again.rowsAccepted, 'the day holds the new delivery only');
    assert.deepEqual(await Promise.all(neighbours.map(partitionHash)), hashes, 'the other days are untouched');

    await assert.rejects(
      startIngestion(temporal.client, config, { spec: NIGHTLY, batch: 'upto-0112', taskQueue }),
      /flights_nightly is a daily dataset: a batch id is the day the delivery holds \(YYYY-MM-DD\), not "upto-0112"/,
    );
  });

  test("readers take a daily dataset's nights of the days they need, and a snapshot's newest batch", async () => {
    const store = await openMetadataStore(config.databaseUrl);
    try {
      const rowsOf = async (files: string[]) =>
        (
          await query<{ n: number }>(
            `SELECT count(*)::INTEGER AS n FROM read_parquet([${files.map(sqlString).join(', ')}])`,
          )
        )[0]!.n;
      const nights = await datasetFiles({ artifacts, store }, loadSpec(NIGHTLY), {
        from: '2001-01-03',
        to: '2001-01-05',
      });
      const [expected] = await query<{ n: number }>(
        `SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(FLIGHTS)}) WHERE CAST(date AS DATE) BETWEEN DATE '2001-01-03' AND DATE '2001-01-05' AND delay >= -720`,
      );
      assert.equal(await rowsOf(nights), expected!.n, 'the three nights, and only them');
      const snapshot = await datasetFiles({ artifacts, store }, loadSpec('flights'), {
        from: '2001-01-03',
        to: '2001-01-05',
      });
      const upTo0112 = await artifacts.parquetFiles(
        await artifacts.openKey({ kind: 'datasets', name: 'flights', version: '1.0.0', partition: 'upto-0112' }),
      );
      assert.deepEqual(snapshot, upTo0112, 'a snapshot holds every day: its newest batch');
      assert.deepEqual(await store.runStats.publishedBatchIdBounds('flights_nightly'), {
        first: '2001-01-01',
        last: '2001-01-13',
      });
    } finally {
      await store.close();
    }
  });
});
