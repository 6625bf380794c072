import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startIngestion } from '../../src/client/ingestion';
import { startBackfill } from '../../src/client/features';
import { openMetadataStore, type MetadataStore } from '../../src/store/database';
import { partitionRange } from '../../src/features/partition-dates';
import { featurePartitionWorkflowId } from '../../src/api/features';
import { testConfig, uniqueTaskQueue, useWorker } from '../helpers/temporal';
import { closedRuns, maxOverlap, runInterval } from '../helpers/workflow-runs';

/**
 * Issue #7, "Load": a backfill of 180 partitions with bounded concurrency completes with no failed
 * workflow. Weather rather than flights: flights has only 174 computable days. 2012-01-08 is the
 * first day with the 7 days of history the input check requires; 180 days on is 2012-07-05.
 */
const config = testConfig();
const taskQueue = uniqueTaskQueue('backfill-load');
const temporal = useWorker(config, taskQueue);
const [FROM, TO] = ['2012-01-08', '2012-07-05'];
const CONCURRENCY = 8;
const FEATURE_SET = 'wet_day';
const days = partitionRange(FROM, TO);
let store: MetadataStore;

before(async () => {
  await temporal.ready();
  store = await openMetadataStore(config.databaseUrl);
  await (
    await startIngestion(temporal.client, config, {
      spec: 'weather',
      batch: '2012-2015',
      asOf: '2016-01-01T00:00:00Z',
      taskQueue,
    })
  ).result();
});
after(async () => {
  await store?.close();
});

describe('a 180-partition backfill under load', () => {
  test(`computes ${days.length} days ${CONCURRENCY} at a time with no failed workflow`, async () => {
    const t0 = performance.now();
    const result = await (
      await startBackfill(temporal.client, config, {
        spec: 'weather',
        from: FROM,
        to: TO,
        concurrency: CONCURRENCY,
        taskQueue,
      })
    ).result();
    const seconds = (performance.now() - t0) / 1000;
    assert.deepEqual(result, { total: 180, alreadyDone: 0, computed: 180 });
    assert.deepEqual(await store.features.publishedPartitions(FEATURE_SET, '1', days), days);

    // Every run on this file's task queue: the namespace is reused by later test files, the task queue is not.
    const runs = await closedRuns(temporal.client, `TaskQueue = '${taskQueue}'`);
    const notCompleted = runs
      .filter((r) => r.status.name !== 'COMPLETED')
      .map((r) => `${r.type} ${r.workflowId}: ${r.status.name}`);
    assert.deepEqual(notCompleted, [], 'every workflow on the task queue completed');
    const children = runs.filter((r) => r.type === 'featurePipeline');
    // One run per partition id: no child was retried, reset or started twice.
    assert.deepEqual(
      children.map((r) => r.workflowId).sort(),
      days.map((d) => featurePartitionWorkflowId(`${FEATURE_SET}@1`, d)).sort(),
    );
    const backfills = runs.filter((r) => r.type === 'featureBackfill');
    assert.equal(backfills.length, 1);
    for (const child of children)
      assert.equal(
        child.parentExecution?.workflowId,
        backfills[0]!.workflowId,
        `${child.workflowId} is a child of the backfill`,
      );

    const concurrent = maxOverlap(children.map(runInterval));
    assert.ok(concurrent > 1, `partitions ran concurrently (at most ${concurrent} at once)`);
    assert.ok(concurrent <= CONCURRENCY, `at most ${CONCURRENCY} partitions at once, saw ${concurrent}`);
    console.error(
      `backfill load: ${result.computed} partitions in ${seconds.toFixed(1)} s, ${(result.computed / seconds).toFixed(2)} partitions/s, at most ${concurrent} running at once (bound ${CONCURRENCY})`,
    );
  });

  test('the same range again computes nothing: every partition is already published', async () => {
    const result = await (
      await startBackfill(temporal.client, config, {
        spec: 'weather',
        from: FROM,
        to: TO,
        concurrency: CONCURRENCY,
        taskQueue,
      })
    ).result();
    assert.deepEqual(result, { total: 180, alreadyDone: 180, computed: 0 });
  });
});
