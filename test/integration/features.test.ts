import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { startIngestion } from '../../src/client/ingestion';
import { startBackfill, startFeaturePartition } from '../../src/client/features';
import { artifactStoreFor } from '../../src/data/open-artifact-store';
import { sqlString } from '../../src/data/duckdb';
import { openMetadataStore, type MetadataStore } from '../../src/store/database';
import { SqlOnlineStore } from '../../src/features/sql-online-store';
import { testConfig, uniqueTaskQueue, useWorker, waitFor } from '../helpers/temporal';
import { freshAsOf, query, writeSource } from '../helpers/sources';
import { saveHistory } from '../helpers/histories';
import { progressQuery } from '../../src/api/progress';

/** The feature pipeline on three weeks of real flights: idempotence, consistency, stale input, backfills. */
const config = testConfig();
const taskQueue = uniqueTaskQueue('features');
const artifacts = artifactStoreFor(config);
const FS = 'flight_delay';
const temporal = useWorker(config, taskQueue);
let store: MetadataStore;

before(async () => {
  // Top-level before hooks may run concurrently: wait for useWorker's client instead of racing it.
  await temporal.ready();
  const source = await writeSource(config, 'jan.parquet', `SELECT * FROM flights WHERE date < TIMESTAMP '2001-01-22'`);
  const ingestion = await startIngestion(temporal.client, config, {
    spec: 'flights',
    batch: 'jan',
    source,
    asOf: await freshAsOf(config, source),
    taskQueue,
  });
  await ingestion.result();
  store = await openMetadataStore(config.databaseUrl);
});
after(async () => {
  await store?.close();
});

const online = () => new SqlOnlineStore(store.db);
const runPartition = async (partition: string) =>
  (await startFeaturePartition(temporal.client, config, { spec: 'flights', partition, taskQueue })).result();
const offlineRows = async (uri: string) =>
  query<Record<string, number | string>>(
    `SELECT * FROM read_parquet(${sqlString(`${await artifacts.open(uri)}/*.parquet`)})`,
  );

describe('feature partitions', () => {
  test('running the same partition twice leaves identical offline output and online values', async () => {
    const first = await runPartition('2001-01-12');
    const onlineAfterFirst = await online().list(FS, '1', 'origin');
    const second = await runPartition('2001-01-12');
    assert.equal(second.offlineHash, first.offlineHash);
    assert.deepEqual(await online().list(FS, '1', 'origin'), onlineAfterFirst);
    assert.equal(first.onlineValidFrom, '2001-01-13T00:00:00.000Z');
    const [count] = await query<{ n: number }>(
      `SELECT count(*) AS n FROM read_parquet(${sqlString(`${config.dataDir}/sources/jan.parquet`)}) WHERE CAST(date AS DATE) = DATE '2001-01-12'`,
    );
    assert.equal(first.rows, count!.n, 'one offline row per flight of the day');
    assert.ok(onlineAfterFirst.length > 100, 'every airport with flights in the window has a snapshot');
  });

  test('the offline value of (entity, t) equals what the online store held at t', async () => {
    await runPartition('2001-01-13'); // writes the snapshots valid from 2001-01-14
    const heldOn14th = new Map((await online().list(FS, '1', 'origin')).map((r) => [r.entityKey, r]));
    const routesOn14th = new Map((await online().list(FS, '1', 'route')).map((r) => [r.entityKey, r]));
    const day = await runPartition('2001-01-14');
    const rows = await offlineRows(day.offlineUri);
    const sample = rows.filter((_, i) => i % 97 === 0);
    assert.ok(sample.length > 100);
    for (const row of sample) {
      const held = heldOn14th.get(String(row.origin));
      assert.ok(held, `the online store held ${row.origin}`);
      assert.equal(held.validFrom, '2001-01-14T00:00:00.000Z');
      assert.ok(
        Math.abs(Number(row.origin_delay_share_7d) - Number(held.values.origin_delay_share_7d)) < 1e-12,
        `origin ${row.origin}`,
      );
      const route = routesOn14th.get(`${row.origin}-${row.destination}`);
      assert.equal(
        Number(row.route_flights_7d),
        Number(route?.values.route_flights_7d ?? 0),
        `route ${row.origin}-${row.destination}`,
      );
    }
  });

  test('a stale input stops with a clear report and an alert, and the online store keeps its last good values', async () => {
    const before = await online().list(FS, '1', 'origin');
    const handle = await startFeaturePartition(temporal.client, config, {
      spec: 'flights',
      partition: '2001-01-25',
      taskQueue,
    });
    const error = await handle.result().then(
      () => assert.fail('a partition past the input must not be computed'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure);
    assert.equal(error.cause.type, 'FeatureInputRejected');
    assert.match(error.cause.message, /freshness\(input\): no rows for 2001-01-25/);
    const report = (error.cause.details?.[0] as { report: { checks: { gate: string; verdict: string }[] } }).report;
    assert.ok(report.checks.some((c) => c.gate === 'freshness' && c.verdict === 'fail'));
    assert.deepEqual(await online().list(FS, '1', 'origin'), before, 'no snapshot was written');
    const alerts = (await store.alerts.listRecent({ limit: 50 })).filter((a) => a.workflowId === handle.workflowId);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.code, 'FeatureInputRejected');
    await saveHistory('features-stale-input', handle);
  });

  test('a partition whose window lacks history is degraded and stops', async () => {
    await assert.rejects(runPartition('2001-01-03'), (e: Error) => {
      assert.match(
        String((e.cause as Error)?.message),
        /history\(input\): 2 of the 7 days before 2001-01-03 have rows/,
      );
      return true;
    });
  });
});

describe('backfills', () => {
  test('a backfill killed halfway and restarted finishes without redoing finished partitions', async () => {
    const request = { spec: 'flights', from: '2001-01-08', to: '2001-01-21', concurrency: 2, taskQueue };
    const first = await startBackfill(temporal.client, config, request);
    await waitFor(
      '4 published partitions',
      async () => (await store.features.publishedPartitions(FS, '1', days('2001-01-08', '2001-01-21'))).length >= 4,
      120_000,
      200,
    );
    await first.terminate('simulated crash of the backfill');
    const finished = await store.features.publishedPartitions(FS, '1', days('2001-01-08', '2001-01-21'));
    const runsBefore = new Map(
      (await store.db.selectFrom('feature_partitions').select(['partition', 'run_id']).execute()).map((r) => [
        r.partition,
        r.run_id,
      ]),
    );

    const second = await startBackfill(temporal.client, config, request);
    const result = await second.result();
    assert.equal(result.total, 14);
    assert.ok(result.alreadyDone >= finished.length, `skipped ${result.alreadyDone}, ${finished.length} were finished`);
    assert.equal(result.alreadyDone + result.computed, 14);
    for (const partition of finished) {
      const row = await store.db
        .selectFrom('feature_partitions')
        .select('run_id')
        .where('partition', '=', partition)
        .executeTakeFirstOrThrow();
      assert.equal(row.run_id, runsBefore.get(partition), `${partition} was not recomputed`);
    }
    assert.deepEqual(
      await store.features.publishedPartitions(FS, '1', days('2001-01-08', '2001-01-21')),
      days('2001-01-08', '2001-01-21'),
    );
    const status = await second.query(progressQuery);
    assert.equal(status.partitions?.failed.length, 0);
    assert.equal(status.partitions?.done.length, result.computed);
    await saveHistory('feature-backfill', second);
  });
});

function days(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}
