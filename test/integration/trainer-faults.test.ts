import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { startTraining } from '../../src/client/training';
import { registerSpec } from '../../src/specs';
import { flightsSpec } from '../../src/specs/flights';
import { flightsLgbmSpec } from '../../src/specs/flights-lgbm';
import { REPO_ROOT, testConfig, uniqueTaskQueue, useWorker } from '../helpers/temporal';
import { useFlightFeatures } from '../helpers/training-data';

/**
 * A trainer command that fails, each way a team's own code can: every one a clear failure of the
 * Training step with the reason, its process group gone, and nothing registered.
 */
const FROM = '2001-01-08';
const TO = '2001-01-21';
const TRAINER_DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'trainers');
const bundled = flightsLgbmSpec.model!.trainer!;

const FAULTS = {
  'exit-65': {
    type: 'TrainerFailed',
    message: /exited with code 65; its last stderr lines:\ncolumn origin_delay_share_7d is constant/,
  },
  'exit-3': {
    type: 'TrainerExited',
    message: /exited with code 3; its last stderr lines:\nout of memory while building the histogram/,
  },
  'no-model': { type: 'TrainerContractViolation', message: /exited 0 but wrote no model\.onnx/ },
  'invalid-onnx': {
    type: 'TrainerContractViolation',
    message: /model\.onnx does not load or score in onnxruntime-node/,
  },
  hang: { type: 'TrainerHung', message: /printed no progress line for 2 s: stopped as hung/ },
  malformed: { type: 'TrainerContractViolation', message: /malformed progress line "epoch 2: loss 0\.51": not JSON/ },
  parity: {
    type: 'TrainingServingSkew',
    message: /the ONNX model's scores differ from the trainer's own by 1\.00e-3 .*tolerance 0\.00001/,
  },
} as const;
type Fault = keyof typeof FAULTS;

for (const fault of Object.keys(FAULTS) as Fault[])
  registerSpec({
    ...flightsSpec,
    name: `flights-fault-${fault}`,
    model: {
      ...flightsSpec.model!,
      hyperParameters: undefined,
      trainer:
        fault === 'parity'
          ? // The bundled trainer in its environment, its reported scores then nudged off the ONNX model's.
            {
              ...bundled,
              command: ['python', path.join(TRAINER_DIR, 'parity_trainer.py')],
              hyperParameters: { num_boost_round: 20 },
            }
          : {
              directory: TRAINER_DIR,
              command: ['python3', 'faulty_trainer.py'],
              hyperParameters: { fault },
              progressTimeoutSeconds: fault === 'hang' ? 2 : 60,
            },
    },
  });

const config = testConfig();
const taskQueue = uniqueTaskQueue('trainer-faults');
const temporal = useWorker(config, taskQueue);
const data = useFlightFeatures(config, temporal, taskQueue, FROM, TO);

async function failure(handle: WorkflowHandle): Promise<{ type?: string; message: string; attempts: number }> {
  const error = await handle.result().then(
    () => assert.fail('the run should have failed'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof WorkflowFailedError);
  const cause = error.cause as { type?: string; message: string };
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'trainModel');
  const started = events.find(
    (e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(scheduled?.eventId),
  );
  return {
    type: cause.type,
    message: cause.message,
    attempts: started?.activityTaskStartedEventAttributes?.attempt ?? 0,
  };
}

/** Trainer processes of this test still alive (their input is under its data directory): none may outlive its step. */
function leftoverTrainers(): string[] {
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((p) => {
      try {
        const cmdline = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
        return /faulty_trainer\.py|parity_trainer\.py/.test(cmdline) && cmdline.includes(config.dataDir)
          ? [`${p}: ${cmdline.replace(/\0/g, ' ')}`]
          : [];
      } catch {
        return [];
      }
    });
}

test('each trainer fault fails the Training step with its reason, leaves no process, and registers nothing', async () => {
  const faults = Object.keys(FAULTS) as Fault[];
  const handles = await Promise.all(
    faults.map((fault) =>
      startTraining(temporal.client, config, {
        spec: `flights-fault-${fault}`,
        from: FROM,
        to: TO,
        initiatedBy: 'ana',
        runId: fault,
        taskQueue,
      }),
    ),
  );
  const failures = await Promise.all(handles.map(failure));
  faults.forEach((fault, i) => {
    const expected = FAULTS[fault];
    const got = failures[i]!;
    assert.equal(got.type, expected.type, `${fault}: ${got.message}`);
    assert.match(got.message, /^Training failed: /, fault);
    assert.match(got.message, expected.message, fault);
    // Only a plain non-zero exit is retried (the workflow's policy: 5 attempts); the others stop at once.
    assert.equal(got.attempts, fault === 'exit-3' ? 5 : 1, `${fault} attempts`);
  });
  assert.deepEqual(leftoverTrainers(), [], 'every trainer process group was stopped');
  assert.deepEqual(await data.store.models.list('flight-delay'), [], 'nothing was registered');
});
