import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTraining, decide } from '../../src/client/training';
import { registerSpec } from '../../src/specs';
import { flightsSpec } from '../../src/specs/flights';
import { progressQuery } from '../../src/api/progress';
import { untilApprovalOrEnd } from '../../src/demo/run-outcome';
import { startWorker, testConfig, uniqueTaskQueue, useWorker, waitFor } from '../helpers/temporal';
import { useFlightFeatures } from '../helpers/training-data';

/**
 * A spec that sends its Training step to a task queue of its own (a GPU pool, a Python environment):
 * with no worker there the run says it is waiting and alerts instead of hanging silently, and a worker
 * started on that queue takes the step, and only that step.
 */
const FROM = '2001-01-08';
const TO = '2001-01-21';
const config = testConfig();
const taskQueue = uniqueTaskQueue('training-queue');
const trainingQueue = `${taskQueue}-gpu`;
registerSpec({
  ...flightsSpec,
  name: 'flights-gpu',
  model: { ...flightsSpec.model!, trainingTaskQueue: trainingQueue, trainingWorkerAlertSeconds: 1 },
});
const temporal = useWorker(config, taskQueue);
const data = useFlightFeatures(config, temporal, taskQueue, FROM, TO);

test('with no worker on the training queue the run waits and alerts; a worker started there trains', async () => {
  const handle = await startTraining(temporal.client, config, {
    spec: 'flights-gpu',
    from: FROM,
    to: TO,
    initiatedBy: 'ana',
    runId: 'gpu-1',
    taskQueue,
  });
  const noWorkerAlert = async () =>
    (await data.store.alerts.listRecent({ limit: 50 })).find(
      (a) => a.workflowId === handle.workflowId && a.code === 'NoTrainingWorker',
    );
  await waitFor('the no-worker alert', async () => (await noWorkerAlert()) !== undefined, 60_000, 250);
  const alert = (await noWorkerAlert())!;
  assert.match(alert.message, new RegExp(`mlpipe worker --task-queue ${trainingQueue}`));
  assert.equal((await handle.query(progressQuery)).stage, 'WaitingForWorker', 'the run says what it waits for');

  const trainingWorker = await startWorker(config, trainingQueue);
  try {
    assert.deepEqual(await untilApprovalOrEnd(handle), { state: 'awaiting approval' });
  } finally {
    await trainingWorker.stop();
  }
  const history = await handle.fetchHistory();
  const queues = new Map<string, string>();
  for (const e of history.events ?? []) {
    const a = e.activityTaskScheduledEventAttributes;
    if (a?.activityType?.name) queues.set(a.activityType.name, a.taskQueue?.name ?? '');
  }
  assert.equal(queues.get('trainingWorkerReady'), trainingQueue);
  assert.equal(queues.get('trainModel'), trainingQueue);
  const elsewhere = [...queues].filter(
    ([name, queue]) => queue === trainingQueue && !/^train(ingWorkerReady|Model)$/.test(name),
  );
  assert.deepEqual(elsewhere, [], 'every other step stays on the pipeline queue');
  const steps = (await handle.query(progressQuery)).steps.map((s) => `${s.name}: ${s.outcome}`);
  assert.ok(
    steps.some((s) => s.startsWith('WaitingForWorker: ') && s.endsWith(`polls ${trainingQueue}`)),
    steps.join('\n'),
  );
  await decide(temporal.client, handle.workflowId, { decision: 'reject', reviewer: 'ben', reason: 'test over' });
  const error = (await handle.result().catch((e: unknown) => e)) as { cause?: Error };
  assert.match(String(error.cause?.message), /rejected by ben/);
});
