import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/client';
import { createSchedule } from '../../src/client/schedules';
import { registerSpec } from '../../src/specs';
import { flightsSpec } from '../../src/specs/flights';
import { flightFeatures } from '../../src/specs/flights-features';
import { openMetadataStore } from '../../src/store/database';
import { mlpipe } from '../helpers/cli';
import { testConfig, uniqueTaskQueue, useWorker, waitFor } from '../helpers/temporal';

/** `mlpipe schedule ...` manages a real Temporal Schedule that starts the daily feature run. */
const config = testConfig();
const taskQueue = uniqueTaskQueue('schedule');
const env = { MLPIPE_DATA_DIR: config.dataDir, MLPIPE_DATABASE_URL: '', TEMPORAL_TASK_QUEUE: taskQueue };
const ID = 'features/flight_delay@1';
const MONITORING_ID = 'monitoring/flight-delay';
// Registered before useWorker's hooks, so it runs while the client is still connected.
after(async () => {
  await temporal.client.schedule
    .getHandle(ID)
    .delete()
    .catch(() => {});
  await temporal.client.schedule
    .getHandle(MONITORING_ID)
    .delete()
    .catch(() => {});
});
const temporal = useWorker(config, taskQueue);
registerSpec({
  ...flightsSpec,
  name: 'flights-feature-sla',
  featureSet: { ...flightFeatures, name: 'flight_delay_sla', sla: { publishedByUtc: '00:00' } },
  model: undefined,
  monitoring: undefined,
});

/** The first run a triggered schedule started, once it has started one. */
async function firstRun(scheduleId: string) {
  const schedule = temporal.client.schedule.getHandle(scheduleId);
  await waitFor(
    'the triggered run',
    async () => (await schedule.describe()).info.recentActions.length > 0,
    30_000,
    200,
  );
  const started = (await schedule.describe()).info.recentActions[0]!.action.workflow;
  return temporal.client.workflow.getHandle(started.workflowId, started.firstExecutionRunId);
}

test('create, list, trigger, pause, unpause and delete a feature schedule', async () => {
  const created = await mlpipe(
    ['schedule', 'create', '--spec', 'flights', '--cron', '0 3 * * *', '--catchup', '12h'],
    env,
  );
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /created schedule features\/flight_delay@1/);

  const description = await temporal.client.schedule.getHandle(ID).describe();
  assert.equal(description.policies.overlap, 'SKIP');
  assert.equal(description.policies.catchupWindow, 12 * 3600 * 1000);
  assert.equal(description.spec.calendars?.length, 1, 'the cron expression became one calendar spec');
  assert.equal(description.action.type, 'startWorkflow');
  assert.equal(description.action.type === 'startWorkflow' && description.action.workflowType, 'scheduledFeatureRun');

  const list = await mlpipe(['schedule', 'list', '--json'], env);
  const listed = (JSON.parse(list.stdout) as { scheduleId: string; paused: boolean }[]).find(
    (s) => s.scheduleId === ID,
  );
  assert.equal(listed?.paused, false);

  // A run started by the schedule computes "yesterday": far past the 2001 data, so it stops as stale.
  assert.equal((await mlpipe(['schedule', 'trigger', ID], env)).code, 0);
  const run = await firstRun(ID);
  await assert.rejects(run.result(), (e: Error) => {
    const child = e.cause as Error & { cause?: ApplicationFailure };
    assert.ok(child.cause instanceof ApplicationFailure);
    assert.equal(child.cause.type, 'FeatureInputRejected');
    return true;
  });
  assert.equal((await run.describe()).type, 'scheduledFeatureRun');

  assert.equal((await mlpipe(['schedule', 'pause', ID], env)).code, 0);
  assert.equal((await temporal.client.schedule.getHandle(ID).describe()).state.paused, true);
  assert.equal((await mlpipe(['schedule', 'unpause', ID], env)).code, 0);
  assert.equal((await temporal.client.schedule.getHandle(ID).describe()).state.paused, false);
  assert.equal((await mlpipe(['schedule', 'delete', ID], env)).code, 0);
  const gone = await mlpipe(['schedule', 'pause', ID], env);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /not found/i);
});

test("a scheduled partition past its feature set's SLA raises FeatureSlaMissed before the run ends", async () => {
  // The schedule computes "yesterday" (no 2001 data then: the run stops as stale), long after 00:00 of
  // the day after it: late from the start.
  const id = await createSchedule(temporal.client, config, {
    spec: 'flights-feature-sla',
    cron: '0 3 * * *',
    taskQueue,
  });
  try {
    await temporal.client.schedule.getHandle(id).trigger();
    const run = await firstRun(id);
    await assert.rejects(run.result());
    const store = await openMetadataStore(config.databaseUrl);
    try {
      const alert = (await store.alerts.listRecent({ limit: 50 })).find(
        (a) => a.workflowId === run.workflowId && a.code === 'FeatureSlaMissed',
      );
      assert.ok(alert, 'the SLA alert was raised');
      assert.equal(alert.severity, 'critical');
      assert.match(
        alert.message,
        /^flight_delay_sla@1\/\d{4}-\d{2}-\d{2}: not published by 00:00 UTC of the next day$/,
      );
      const closed = (await run.describe()).closeTime!;
      assert.ok(new Date(alert.createdAt) <= closed, 'raised before the late run ended');
    } finally {
      await store.close();
    }
  } finally {
    await temporal.client.schedule.getHandle(id).delete();
  }
});

test('a monitoring schedule runs the monitoring pipeline over the window before its scheduled time', async () => {
  const created = await mlpipe(
    ['schedule', 'create', '--spec', 'flights', '--kind', 'monitoring', '--window-days', '7', '--lag-days', '2'],
    env,
  );
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /created schedule monitoring\/flight-delay/);
  const description = await temporal.client.schedule.getHandle(MONITORING_ID).describe();
  assert.equal(
    description.action.type === 'startWorkflow' && description.action.workflowType,
    'scheduledMonitoringRun',
  );

  // Triggered now: the window is the 7 days ending 3 days ago; with no production model it stops, saying so.
  assert.equal((await mlpipe(['schedule', 'trigger', MONITORING_ID], env)).code, 0);
  const run = await firstRun(MONITORING_ID);
  const today = new Date();
  const day = (offset: number) =>
    new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + offset))
      .toISOString()
      .slice(0, 10);
  await assert.rejects(run.result(), (e: Error) => {
    const child = e.cause as Error & { cause?: ApplicationFailure; execution?: { workflowId: string } };
    assert.equal(child.execution?.workflowId, `monitoring/flight-delay/${day(-9)}_${day(-3)}`);
    assert.ok(child.cause instanceof ApplicationFailure);
    assert.equal(child.cause.type, 'NoProductionModel');
    return true;
  });
  assert.equal((await mlpipe(['schedule', 'delete', MONITORING_ID], env)).code, 0);
});
