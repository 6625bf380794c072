import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/client';
import { mlpipe } from '../helpers/cli';
import { testConfig, uniqueTaskQueue, useWorker, waitFor } from '../helpers/temporal';

/** `mlpipe schedule ...` manages a real Temporal Schedule that starts the daily feature run. */
const config = testConfig();
const taskQueue = uniqueTaskQueue('schedule');
const env = { MLPIPE_DATA_DIR: config.dataDir, MLPIPE_DATABASE_URL: '', TEMPORAL_TASK_QUEUE: taskQueue };
const ID = 'features/flight_delay@1';
// Registered before useWorker's hooks, so it runs while the client is still connected.
after(async () => {
  await temporal.client.schedule.getHandle(ID).delete().catch(() => {});
});
const temporal = useWorker(config, taskQueue);

test('create, list, trigger, pause, unpause and delete a feature schedule', async () => {
  const created = await mlpipe(['schedule', 'create', '--spec', 'flights', '--cron', '0 3 * * *', '--catchup', '12h'], env);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /created schedule features\/flight_delay@1/);

  const description = await temporal.client.schedule.getHandle(ID).describe();
  assert.equal(description.policies.overlap, 'SKIP');
  assert.equal(description.policies.catchupWindow, 12 * 3600 * 1000);
  assert.equal(description.spec.calendars?.length, 1, 'the cron expression became one calendar spec');
  assert.equal(description.action.type, 'startWorkflow');
  assert.equal(description.action.type === 'startWorkflow' && description.action.workflowType, 'scheduledFeatureRun');

  const list = await mlpipe(['schedule', 'list', '--json'], env);
  const listed = (JSON.parse(list.stdout) as { scheduleId: string; paused: boolean }[]).find((s) => s.scheduleId === ID);
  assert.equal(listed?.paused, false);

  // A run started by the schedule computes "yesterday": far past the 2001 data, so it stops as stale.
  assert.equal((await mlpipe(['schedule', 'trigger', ID], env)).code, 0);
  await waitFor('the triggered run', async () => (await temporal.client.schedule.getHandle(ID).describe()).info.recentActions.length > 0, 30_000, 200);
  const started = (await temporal.client.schedule.getHandle(ID).describe()).info.recentActions[0]!.action.workflow;
  const run = temporal.client.workflow.getHandle(started.workflowId, started.firstExecutionRunId);
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
