import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { approvalView, decide, startTraining } from '../../src/client/training';
import { artifactStoreFor } from '../../src/data/open-artifact-store';
import { stepKey } from '../../activities/step-files';
import { progressQuery } from '../../src/api/progress';
import { defaultPythonEnvsDir, ensurePythonEnv } from '../../src/training/python-env';
import { ModelArtifactSchema } from '../../src/ml/model-artifact';
import { flightsLgbmSpec } from '../../src/specs/flights-lgbm';
import type { TrainerInput } from '../../src/training/trainer-contract';
import { untilApprovalOrEnd } from '../../src/demo/run-outcome';
import {
  connect,
  spawnWorker,
  startWorker,
  testConfig,
  uniqueTaskQueue,
  waitFor,
  type WorkerProcess,
} from '../helpers/temporal';
import { publishFlightFeatures } from '../helpers/training-data';

/**
 * The flights LightGBM challenger, trained by its bundled Python trainer through trainingPipeline on
 * January-February: the worker SIGKILLed in the middle of training, the trainer resumed from its
 * checkpoint on a new worker, the ONNX model scored in Node as the trainer scored it, and the test
 * AUC equal to the same script's run by hand on the same splits.
 */
const config = testConfig();
const artifacts = artifactStoreFor(config);
const FROM = '2001-01-08';
const TO = '2001-02-28';
const trainer = flightsLgbmSpec.model!.trainer!;
let client: Client;
const spawned: WorkerProcess[] = [];

before(async () => {
  client = await connect(config);
  const taskQueue = uniqueTaskQueue('lgbm-setup');
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

const checkpointsLogged = (worker: WorkerProcess) =>
  worker.logs.filter((l) => /^checkpoint at iteration/.test(String(l.msg))).map((l) => Number(l.iteration));

test('a Python LightGBM trainer killed mid-run resumes from its checkpoint; ONNX in Node scores as the trainer did', async () => {
  const taskQueue = uniqueTaskQueue('lgbm-training');
  // The pause after each checkpoint gives the kill a window between two of them.
  const first = spawnWorker(config, taskQueue, { MLPIPE_TRAIN_ITERATION_PAUSE_MS: '500' });
  spawned.push(first);
  const handle: WorkflowHandleWithFirstExecutionRunId = await startTraining(client, config, {
    spec: 'flights-lgbm',
    from: FROM,
    to: TO,
    initiatedBy: 'ana',
    runId: 'lgbm-killed',
    trainingHeartbeatTimeoutMs: 3_000,
    taskQueue,
  });
  // The first run makes the trainer's Python environment from PyPI (cached after).
  await waitFor('two trainer checkpoints', () => checkpointsLogged(first).length >= 2, 600_000, 50);
  // What `mlpipe status` and the UI show of the running step: the trainer's progress as heartbeat details
  // (the SDK sends them throttled, so the server has them a moment after the line was printed).
  const heartbeat = async () => {
    const details = (await handle.describe()).raw.pendingActivities?.find((a) => a.activityType?.name === 'trainModel')
      ?.heartbeatDetails?.payloads?.[0];
    return details
      ? (client.options.loadedDataConverter.payloadConverter.fromPayload(details) as
          { iteration: number; metrics: Record<string, number> } | undefined)
      : undefined;
  };
  await waitFor(
    "the trainer's progress in the pending activity's heartbeat details",
    async () => {
      const beat = await heartbeat();
      return beat !== undefined && beat.iteration >= 1 && typeof beat.metrics.valid_auc === 'number';
    },
    60_000,
    100,
  );
  first.child.kill('SIGKILL');
  await first.exited;
  const lastLogged = Math.max(...checkpointsLogged(first));

  const second = spawnWorker(config, taskQueue);
  spawned.push(second);
  assert.deepEqual(await untilApprovalOrEnd(handle), { state: 'awaiting approval' });
  const { candidate } = (await handle.query(progressQuery)).artifacts;
  const artifact = ModelArtifactSchema.parse(JSON.parse(fs.readFileSync(await artifacts.open(candidate!), 'utf8')));
  assert.equal(artifact.kind, 'onnx');
  if (artifact.kind !== 'onnx') return;
  const resumedFrom = artifact.trainer.resumedFrom;
  assert.ok(
    resumedFrom !== undefined && resumedFrom >= lastLogged,
    `resumed from round ${resumedFrom}, not before the last checkpoint the killed worker reported (${lastLogged})`,
  );
  const retrained = checkpointsLogged(second);
  assert.ok(
    retrained.length > 0 && retrained.every((i) => i > resumedFrom!),
    `no round up to ${resumedFrom} trained again (${retrained.join(', ')})`,
  );
  assert.equal(artifact.trainer.iterations, trainer.hyperParameters!.num_boost_round);

  // Parity, as the review shows it: the trainer's own test scores against the ONNX model's in Node.
  const view = await approvalView(client, handle.workflowId);
  const model = view.skew?.model;
  assert.equal(model?.kind, 'onnx');
  if (model?.kind !== 'onnx') return;
  assert.equal(model.trainerParity.rows, view.evaluation!.test.rows);
  assert.ok(
    model.trainerParity.maxAbsDifference <= 1e-5,
    `max |trainer - ONNX| ${model.trainerParity.maxAbsDifference}`,
  );
  assert.ok(view.skew!.maxAbsDifference <= 1e-9, 'serving (ONNX) answers as the batch path (ONNX)');

  // The same script run by hand on the same splits, from scratch.
  // The trainer's folder, in the Training step's work area.
  const work = stepKey(
    { kind: 'models', name: 'flight-delay' },
    { ...handle, runId: handle.firstExecutionRunId },
    'train',
  );
  const trainerDir = path.join(await artifacts.restore(work, 'work'), 'trainer');
  const input = JSON.parse(fs.readFileSync(path.join(trainerDir, 'input.json'), 'utf8')) as TrainerInput;
  const hand = fs.mkdtempSync(path.join(os.tmpdir(), 'lgbm-by-hand-'));
  const handInput = path.join(hand, 'input.json');
  for (const dir of ['checkpoint', 'output']) fs.mkdirSync(path.join(hand, dir));
  fs.writeFileSync(
    handInput,
    JSON.stringify({
      ...input,
      resume: false,
      checkpointDir: path.join(hand, 'checkpoint'),
      outputDir: path.join(hand, 'output'),
    }),
  );
  const env = await ensurePythonEnv(path.join(trainer.directory, trainer.requirements!), {
    python: config.MLPIPE_PYTHON,
    envsDir: config.MLPIPE_PYTHON_ENVS_DIR ?? defaultPythonEnvsDir(),
  });
  await promisify(execFile)(path.join(env.bin, 'python'), [trainer.command[1]!, handInput], { cwd: trainer.directory });
  const byHand = JSON.parse(fs.readFileSync(path.join(hand, 'output', 'result.json'), 'utf8')) as {
    metrics: { test_auc: number };
  };
  const pipelineAuc = view.evaluation!.test.overall.auc;
  console.log(
    `LightGBM test AUC: by hand ${byHand.metrics.test_auc}, trainer in the pipeline (resumed at round ${resumedFrom}) ${artifact.trainer.metrics.test_auc}, ONNX in Node ${pipelineAuc}; max |trainer - ONNX| ${model.trainerParity.maxAbsDifference.toExponential(2)} on ${model.trainerParity.rows} test rows`,
  );
  assert.equal(
    artifact.trainer.metrics.test_auc,
    byHand.metrics.test_auc,
    'the resumed run ends with the undisturbed model',
  );
  assert.ok(
    Math.abs(pipelineAuc - byHand.metrics.test_auc) <= 1e-6,
    `Node's AUC ${pipelineAuc} against ${byHand.metrics.test_auc}`,
  );

  await decide(client, handle.workflowId, { decision: 'reject', reviewer: 'ben', reason: 'test over' });
  await handle.result().catch(() => undefined);
  second.child.kill('SIGTERM');
  await second.exited;
});
