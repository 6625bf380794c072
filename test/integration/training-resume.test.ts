import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { startTraining } from '../../src/client/training';
import { stepKey } from '../../activities/step-files';
import { progressQuery } from '../../src/api/progress';
import {
  connect,
  spawnWorker,
  startWorker,
  terminateIfRunning,
  testConfig,
  uniqueTaskQueue,
  waitFor,
  type WorkerProcess,
} from '../helpers/temporal';
import { publishFlightFeatures } from '../helpers/training-data';
import { observerStore, otherHostEnv } from '../helpers/hosts';

/**
 * A worker SIGKILLed in the middle of training: the retry on a new worker resumes from the last
 * persisted iteration (not from zero) and ends with exactly the model of an undisturbed run.
 */
const config = testConfig();
const observer = observerStore(config);
const FROM = '2001-01-08';
const TO = '2001-01-17';
let client: Client;
const spawned: WorkerProcess[] = [];

before(async () => {
  client = await connect(config);
  const taskQueue = uniqueTaskQueue('resume-setup');
  const worker = await startWorker(config, taskQueue);
  try {
    await publishFlightFeatures(client, config, taskQueue, FROM, TO);
  } finally {
    await worker.stop();
  }
});

after(async () => {
  for (const w of spawned) w.child.kill('SIGKILL');
  await client.connection.close();
});

const train = (runId: string, taskQueue: string) =>
  startTraining(client, config, {
    spec: 'flights',
    from: FROM,
    to: TO,
    initiatedBy: 'ana',
    runId,
    trainingHeartbeatTimeoutMs: 3_000,
    taskQueue,
  });

/** The model the Training step published (its URI in the run's progress); gates after it do not matter here. */
async function trainedModel(
  handle: WorkflowHandleWithFirstExecutionRunId,
): Promise<{ weights: number[]; intercept: number; trainingDataHash: string }> {
  let candidate: string | undefined;
  await waitFor(
    'the training step to finish',
    async () => (candidate = (await handle.query(progressQuery)).artifacts.candidate) !== undefined,
    180_000,
    250,
  );
  return JSON.parse(fs.readFileSync(await observer.open(candidate!), 'utf8'));
}

const iterationsLogged = (worker: WorkerProcess, message: RegExp) =>
  worker.logs.filter((l) => message.test(String(l.msg))).map((l) => Number(l.iteration));

test('training killed mid-run resumes from its last checkpoint and ends with the undisturbed model', async () => {
  const undisturbedQueue = uniqueTaskQueue('undisturbed-training');
  const inProcess = await startWorker(config, undisturbedQueue);
  let undisturbed;
  try {
    const handle = await train('undisturbed', undisturbedQueue);
    undisturbed = await trainedModel(handle);
    await terminateIfRunning(handle, 'the model is all this test needs');
  } finally {
    await inProcess.stop();
  }

  const taskQueue = uniqueTaskQueue('killed-training');
  // The pause after each checkpoint gives the kill a window between two iterations.
  const first = spawnWorker(config, taskQueue, { MLPIPE_TRAIN_ITERATION_PAUSE_MS: '400' });
  spawned.push(first);
  const handle = await train('killed', taskQueue);
  // The checkpoint where a resuming worker finds it, in the Training step's work area: with an object store, there.
  const work = stepKey(
    { kind: 'models', name: 'flight-delay' },
    { ...handle, runId: handle.firstExecutionRunId },
    'train',
  );
  const checkpointIteration = async () => {
    const file = path.join(await observer.restore(work, 'work'), 'checkpoint.json');
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { iteration: number }).iteration : 0;
  };
  // The worker logs a checkpoint after it is written and saved, then pauses: waiting for the log line (not
  // for the file, which is there a moment before the line) kills it in that pause, two checkpoints in.
  await waitFor(
    'two training checkpoints',
    () => iterationsLogged(first, /^checkpoint at iteration/).length >= 2,
    180_000,
    20,
  );
  first.child.kill('SIGKILL');
  await first.exited;
  const persisted = await checkpointIteration();
  assert.ok(persisted >= 2, `a checkpoint of iteration 2 or later persisted (${persisted})`);

  const second = spawnWorker(config, taskQueue, otherHostEnv(config));
  spawned.push(second);
  const resumed = await trainedModel(handle);
  const progress = await handle.query(progressQuery);
  await terminateIfRunning(handle, 'done');
  second.child.kill('SIGTERM');
  await second.exited;

  const resumedAt = iterationsLogged(second, /^resuming training from iteration/);
  assert.deepEqual(resumedAt, [persisted], `the new worker resumed from the persisted iteration ${persisted}`);
  const afterRestart = iterationsLogged(second, /^checkpoint at iteration/);
  assert.ok(
    afterRestart.every((i) => i > persisted),
    `no iteration up to ${persisted} was trained again (${afterRestart.join(', ')})`,
  );
  assert.deepEqual(resumed.weights, undisturbed.weights, 'the resumed model equals the undisturbed one, bit for bit');
  assert.equal(resumed.intercept, undisturbed.intercept);
  assert.equal(resumed.trainingDataHash, undisturbed.trainingDataHash);
  assert.match(
    progress.steps.find((s) => s.name === 'Training')?.outcome ?? '',
    new RegExp(`resumed at iteration ${persisted}`),
    'the run says it resumed',
  );
});
