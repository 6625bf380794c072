import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { openMetadataStore } from '../../src/store/database';
import type { IngestionPipeline, IngestionInput } from '../../src/api/ingestion';
import { progressQuery } from '../../src/api/progress';
import { flakyProxy, type FlakyProxy } from '../helpers/flaky-proxy';
import { seedFlightsTable, startPostgres, type TestPostgres } from '../helpers/postgres';
import { testConfig, uniqueTaskQueue, useWorker, waitFor } from '../helpers/temporal';
import { saveHistory } from '../helpers/histories';

/**
 * A flaky warehouse (a PostgreSQL table behind a proxy that can be switched off): a short outage is
 * ridden out by retries with exponential backoff; a long one opens the circuit: the pipeline stops
 * calling the source, alerts once, probes it on a durable timer, and resumes when it answers.
 */
const ROWS = 3_000;
const config = testConfig();
const taskQueue = uniqueTaskQueue('breaker');
const temporal = useWorker(config, taskQueue);
let postgres: TestPostgres;
let proxy: FlakyProxy;

before(async () => {
  postgres = await startPostgres();
  await seedFlightsTable(postgres.url, ROWS);
  proxy = await flakyProxy(Number(new URL(postgres.url).port));
});
after(async () => {
  await proxy?.close();
  await postgres?.stop();
});

function sourceUri(): string {
  const url = new URL(postgres.url);
  url.port = String(proxy.port);
  return `${url.toString()}?table=public.flights`;
}

async function start(
  batchId: string,
  circuitBreaker: IngestionInput['circuitBreaker'],
): Promise<WorkflowHandle<IngestionPipeline>> {
  return temporal.client.workflow.start<IngestionPipeline>('ingestionPipeline', {
    workflowId: `ingest/flights/${batchId}`,
    taskQueue,
    args: [{ spec: 'flights', sourceUri: sourceUri(), batchId, asOf: '2001-01-02T00:00:00Z', circuitBreaker }],
  });
}

async function scheduled(handle: WorkflowHandle) {
  const events = (await handle.fetchHistory()).events ?? [];
  return {
    activities: events.flatMap((e) =>
      e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes] : [],
    ),
    attempts: events.flatMap((e) =>
      e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt ?? 1] : [],
    ),
    timers: events.filter((e) => e.timerStartedEventAttributes).length,
  };
}

test('a short outage is retried with exponential backoff and the batch completes, with no alert', async () => {
  proxy.down();
  const handle = await start('flaky-short', { openAfterAttempts: 8, probeEveryMs: 500, maxOpenMs: 60_000 });
  await waitFor(
    'a failed attempt',
    async () => ((await handle.describe()).raw.pendingActivities?.[0]?.attempt ?? 1) >= 2,
    60_000,
    100,
  );
  proxy.up();
  const result = await handle.result();
  assert.equal(result.rowsRead, ROWS);
  assert.equal(result.rowsRead, result.rowsAccepted + result.rowsRejected);
  const { activities, attempts } = await scheduled(handle);
  const ingest = activities.find((a) => a.activityType?.name === 'ingestSource')!;
  assert.equal(ingest.retryPolicy?.backoffCoefficient, 2, 'exponential backoff');
  assert.ok(Math.max(...attempts) >= 2, 'the source was retried');
  assert.ok(!activities.some((a) => a.activityType?.name === 'probeSource'), 'the circuit never opened');
  const store = await openMetadataStore(config.databaseUrl);
  try {
    assert.ok(
      !(await store.alerts.listRecent({ limit: 100 })).some((a) => a.workflowId === handle.workflowId),
      'no alert for a blip',
    );
  } finally {
    await store.close();
  }
});

test('a long outage opens the circuit: one alert, probes on a durable timer, and the batch resumes when the source answers', async () => {
  proxy.down();
  const handle = await start('flaky-long', { openAfterAttempts: 2, probeEveryMs: 1_000, maxOpenMs: 300_000 });
  await waitFor(
    'the circuit to open',
    async () => (await handle.query(progressQuery)).stage === 'CircuitOpen',
    60_000,
    100,
  );
  await waitFor(
    'three failed probes',
    async () => (await scheduled(handle)).activities.filter((a) => a.activityType?.name === 'probeSource').length >= 3,
    60_000,
    200,
  );
  const ingestsWhileOpen = (await scheduled(handle)).activities.filter(
    (a) => a.activityType?.name === 'ingestSource',
  ).length;
  assert.equal(ingestsWhileOpen, 1, 'while the circuit is open the source is only probed, not ingested');
  proxy.up();
  const result = await handle.result();
  assert.equal(result.rowsRead, ROWS);
  assert.equal(result.rowsRead, result.rowsAccepted + result.rowsRejected);
  const { activities, timers } = await scheduled(handle);
  assert.ok(timers >= 3, 'the waits between probes are durable timers');
  assert.equal(
    activities.filter((a) => a.activityType?.name === 'ingestSource').length,
    2,
    'ingestion ran again once the source answered',
  );
  const store = await openMetadataStore(config.databaseUrl);
  try {
    const alerts = (await store.alerts.listRecent({ limit: 100 })).filter((a) => a.workflowId === handle.workflowId);
    assert.deepEqual(
      alerts.map((a) => a.code),
      ['SourceUnavailable'],
      'one alert, however many probes failed',
    );
    assert.match(alerts[0]!.observed ?? '', /2 failed attempts/);
    await saveHistory('ingestion-circuit-breaker', handle);
  } finally {
    await store.close();
  }
});
