import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { startBackfill, startFeaturePartition } from '../../src/client/features';
import { partitionRange } from '../../src/features/partition-dates';
import { SqlOnlineStore } from '../../src/features/sql-online-store';
import { openMetadataStore, type MetadataStore } from '../../src/store/database';
import { featureRangeWorkflowId, type FeatureRangePipeline } from '../../src/api/features';
import { testConfig, uniqueTaskQueue, useWorker } from '../helpers/temporal';
import { ingestQuery } from '../helpers/sources';
import { saveHistory } from '../helpers/histories';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createFeatureRangeActivities } from '../../activities/feature-range';
import { openActivityDeps } from '../../activities/open-deps';
import { createLogger } from '../../src/logger';

/**
 * A backfill with several days per run (featureRangePipeline: one statement for all the days) against
 * one run per day: the same partitions byte for byte, the same online snapshot, and a refused day
 * reported with the failure its own run has while the other days are published.
 */
const config = testConfig();
const taskQueue = uniqueTaskQueue('feature-range');
const temporal = useWorker(config, taskQueue);
const FS = 'flight_delay';
const LABEL = `${FS}@1`;
const ENTITIES = ['origin', 'destination', 'route'];
let store: MetadataStore;

before(async () => {
  await temporal.ready();
  await ingestQuery(temporal.client, config, {
    spec: 'flights',
    batch: 'upto-0125',
    select: `SELECT * FROM flights WHERE date < TIMESTAMP '2001-01-26'`,
    taskQueue,
  });
  store = await openMetadataStore(config.databaseUrl);
});
after(async () => {
  await store?.close();
});

const online = () => new SqlOnlineStore(store.db);
const onlineState = async () =>
  Object.fromEntries(await Promise.all(ENTITIES.map(async (e) => [e, await online().list(FS, '1', e)] as const)));
const published = async (days: string[]) =>
  Object.fromEntries((await Promise.all(days.map((d) => store.features.get(FS, '1', d)))).map((p, i) => [days[i], p]));

describe('feature backfill, several days per run', () => {
  test('publishes the partitions, online snapshot and records that one run per day publishes', async () => {
    const days = partitionRange('2001-01-08', '2001-01-21');
    const backfill = await startBackfill(temporal.client, config, {
      spec: 'flights',
      from: days[0]!,
      to: days.at(-1)!,
      concurrency: 2,
      daysPerRun: 5,
      taskQueue,
    });
    const result = await backfill.result();
    assert.deepEqual(result, { total: 14, alreadyDone: 0, computed: 14 });
    await saveHistory('feature-backfill-ranges', backfill);
    // Three runs of at most 5 days, in date order.
    for (const [from, to] of [
      ['2001-01-08', '2001-01-12'],
      ['2001-01-13', '2001-01-17'],
      ['2001-01-18', '2001-01-21'],
    ]) {
      const child = temporal.client.workflow.getHandle(featureRangeWorkflowId(LABEL, from!, to!));
      assert.equal((await child.describe()).status.name, 'COMPLETED', `${from}..${to} ran as one run`);
      if (from === '2001-01-08') await saveHistory('feature-range', child);
    }
    const byRange = await published(days);
    const onlineByRange = await onlineState();
    for (const d of days) assert.ok(byRange[d]?.rows && byRange[d]!.rows > 10_000, `${d} published with its rows`);

    // Each day again by its own featurePipeline: the same bytes; the online store ends where the range left it.
    const own = await Promise.all(
      days.map(async (partition) =>
        (await startFeaturePartition(temporal.client, config, { spec: 'flights', partition, taskQueue })).result(),
      ),
    );
    for (const [i, d] of days.entries()) {
      assert.equal(own[i]!.offlineHash, byRange[d]!.output_hash, `${d}: the same offline partition`);
      assert.equal(own[i]!.rows, byRange[d]!.rows);
    }
    const byDay = await published(days);
    for (const d of days) {
      const { definitionHash, ...statsByDay } = byDay[d]!.stats as Record<string, unknown>;
      const { definitionHash: rangeHash, ...statsByRange } = byRange[d]!.stats as Record<string, unknown>;
      assert.equal(rangeHash, definitionHash);
      // Counts, minima and maxima exactly; a mean is summed over all the days' rows grouped by day, not
      // over the day's file, so its last bits may differ: equal within 1e-12 relative.
      assert.deepEqual(withoutMeans(statsByRange), withoutMeans(statsByDay), `${d}: the same validation statistics`);
      for (const [feature, s] of Object.entries(featuresOf(statsByDay)))
        assertClose(featuresOf(statsByRange)[feature]!.mean, s.mean, `${d} ${feature} mean`);
    }
    assert.deepEqual(await onlineState(), onlineByRange, 'the online snapshot is the one day-by-day runs leave');
    assert.ok(onlineByRange.route!.length > 1000);
  });

  test('a refused day is reported with its own failure; the days before it are published', async () => {
    const handle = await startBackfill(temporal.client, config, {
      spec: 'flights',
      from: '2001-01-22',
      to: '2001-01-27',
      concurrency: 1,
      daysPerRun: 6,
      taskQueue,
    });
    const error = await handle.result().then(
      () => assert.fail('days past the input must be refused'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure);
    assert.equal(error.cause.type, 'BackfillIncomplete');
    assert.match(
      error.cause.message,
      /^2 of 6 partitions failed: 2001-01-26 \(FeatureInputRejected: input of flight_delay v1 partition 2001-01-26 rejected: freshness\(input\): no rows for 2001-01-26/,
    );
    assert.match(error.cause.message, /2001-01-27 \(FeatureInputRejected: /);
    assert.deepEqual(await store.features.publishedPartitions(FS, '1', partitionRange('2001-01-22', '2001-01-27')), [
      '2001-01-22',
      '2001-01-23',
      '2001-01-24',
      '2001-01-25',
    ]);
    const run = await temporal.client.workflow
      .getHandle<FeatureRangePipeline>(featureRangeWorkflowId(LABEL, '2001-01-22', '2001-01-27'))
      .result();
    assert.deepEqual(
      run.days.map((d) => ('failed' in d ? `${d.day} refused` : `${d.day} ${d.rows > 0}`)),
      [
        '2001-01-22 true',
        '2001-01-23 true',
        '2001-01-24 true',
        '2001-01-25 true',
        '2001-01-26 refused',
        '2001-01-27 refused',
      ],
    );
  });

  test('publishing again after the work directory is gone (a worker killed before it reported) answers from the records', async () => {
    const opened = await openActivityDeps(config, createLogger('warn'));
    const { publishFeatureRange } = createFeatureRangeActivities(opened.deps);
    const env = new MockActivityEnvironment();
    const publish = (days: string[]) =>
      env.run(() =>
        publishFeatureRange({
          spec: 'flights',
          computed: days,
          inputUri: 'artifact:datasets/flights/1.0.0/upto-0125',
          startedAt: new Date().toISOString(),
          days: days.map((day) => ({ day, rows: 1, stats: {} })),
        }),
      ) as ReturnType<typeof publishFeatureRange>;
    try {
      const days = partitionRange('2001-01-08', '2001-01-12');
      const again = await publish(days);
      const records = await published(days);
      assert.deepEqual(
        again.days,
        days.map((day) => ({ day, uri: records[day]!.output_uri, hash: records[day]!.output_hash })),
      );
      // A day never published: nothing to answer from, and retrying cannot bring the work back.
      await assert.rejects(
        publish(['2001-01-30']),
        (e: Error & { type?: string }) => e.type === 'FeatureWorkLost' && /2001-01-30 not published/.test(e.message),
      );
    } finally {
      await opened.close();
    }
  });

  test('the same range again computes nothing: every partition is already published', async () => {
    const result = await (
      await startBackfill(temporal.client, config, {
        spec: 'flights',
        from: '2001-01-08',
        to: '2001-01-21',
        daysPerRun: 7,
        taskQueue,
      })
    ).result();
    assert.deepEqual(result, { total: 14, alreadyDone: 14, computed: 0 });
  });
});

type StatsFeatures = Record<string, { mean: number | null }>;
const featuresOf = (stats: Record<string, unknown>) => stats.features as StatsFeatures;

/** Statistics with each feature's mean left out (compared apart, within a tolerance). */
function withoutMeans(stats: Record<string, unknown>): Record<string, unknown> {
  const features = Object.fromEntries(
    Object.entries(featuresOf(stats)).map(([name, { mean: _, ...rest }]) => [name, rest]),
  );
  return { ...stats, features };
}

function assertClose(actual: number | null, expected: number | null, what: string): void {
  if (actual === null || expected === null) return assert.equal(actual, expected, what);
  assert.ok(
    Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} against ${expected}`,
  );
}
