import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { pendingApprovals, startTraining } from '../../src/client/training';
import { registerSpec } from '../../src/specs';
import { flightsSpec } from '../../src/specs/flights';
import { mlpipe, type CliResult } from '../helpers/cli';
import { testConfig, uniqueTaskQueue, useWorker, waitFor } from '../helpers/temporal';
import { publishFlightFeatures } from '../helpers/training-data';

/**
 * The reviewer's side of the training pipeline through the real `mlpipe` binary: train, pending,
 * review, approve/reject, models list/show/rollback, with their exit codes and one-line refusals.
 * The runs share one registry, so their order matters: the rejected run comes first (a second run on
 * the same window would stop at the quality gate against the approved one), then the approved one.
 */
const FROM = '2001-01-08';
const TO = '2001-01-21';
const MODEL = 'flight-delay';

// The worker in this process knows this variant; the CLI does not need to (only `train` reads specs).
registerSpec({
  ...flightsSpec,
  name: 'flights-any-gain',
  model: { ...flightsSpec.model!, promotion: { ...flightsSpec.model!.promotion, minImprovement: 0 } },
});

const config = testConfig();
const taskQueue = uniqueTaskQueue('cli-training');
const env = { MLPIPE_DATA_DIR: config.dataDir, MLPIPE_DATABASE_URL: '', TEMPORAL_TASK_QUEUE: taskQueue };
const temporal = useWorker(config, taskQueue);

before(async () => {
  await publishFlightFeatures(await temporal.ready(), config, taskQueue, FROM, TO);
});

const run = (...args: string[]) => mlpipe(args, env);

function oneLine(text: string): string {
  const lines = text.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${text}`);
  return lines[0]!;
}

function failedWith(r: CliResult, code: number, message: RegExp): void {
  assert.equal(r.code, code, `exit code; stdout: ${r.stdout} stderr: ${r.stderr}`);
  assert.match(oneLine(r.stderr), message);
}

/** A command that waited for its run: "started ..., waiting" on stderr, then the outcome as one line. */
function runFailedWith(r: CliResult, message: RegExp): void {
  assert.equal(r.code, 1, `exit code; stdout: ${r.stdout} stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 2, `a started line and the failure, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^started \S+, waiting \(Temporal UI: http/);
  assert.match(lines[1]!, message);
}

/** `mlpipe train` on the test window; returns the workflow id it printed. */
async function train(by: string): Promise<string> {
  const r = await run('train', '--spec', 'flights', '--from', FROM, '--to', TO, '--as', by);
  assert.equal(r.code, 0, r.stderr);
  const started = /^started (training\/flight-delay\/\S+)$/m.exec(r.stdout);
  assert.ok(started, `a workflow id in:\n${r.stdout}`);
  const workflowId = started[1]!;
  assert.match(
    r.stdout,
    new RegExp(`^Temporal UI: http://\\S+/workflows/${encodeURIComponent(workflowId)}/\\S+/history$`, 'm'),
  );
  return workflowId;
}

/** Polls the visibility query behind `mlpipe pending` through the client: cheaper than a process per poll. */
function awaitingApproval(workflowId: string): Promise<void> {
  return waitFor(
    `${workflowId} to wait for approval`,
    async () => (await pendingApprovals(temporal.client, MODEL)).some((p) => p.workflowId === workflowId),
    120_000,
    250,
  );
}

/** The run's row from `mlpipe pending --json`, once it waits for approval. */
async function pendingRow(workflowId: string): Promise<Record<string, unknown>> {
  await awaitingApproval(workflowId);
  const r = await run('pending', '--model', MODEL, '--json');
  assert.equal(r.code, 0, r.stderr);
  const row = (JSON.parse(r.stdout) as Record<string, unknown>[]).find((p) => p.workflowId === workflowId);
  assert.ok(row, `mlpipe pending lists ${workflowId}:\n${r.stdout}`);
  return row;
}

async function failureOf(workflowId: string): Promise<{ type?: string; message: string }> {
  const error = await temporal.client.workflow
    .getHandle(workflowId)
    .result()
    .then(
      () => assert.fail(`${workflowId} should have failed`),
      (e: unknown) => e,
    );
  assert.ok(error instanceof WorkflowFailedError, String(error));
  const cause = error.cause as { type?: string; message: string };
  return { type: cause.type, message: cause.message };
}

async function versions(): Promise<{ version: number; stage: string }[]> {
  const r = await run('models', 'list', '--model', MODEL, '--json');
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { version: number; stage: string }[]).map((v) => ({
    version: v.version,
    stage: v.stage,
  }));
}

describe('mlpipe training commands', () => {
  test('bad arguments exit 2 with one clear line naming the command', async () => {
    const [noSpec, backwards, unknownSpec, badTimeout, noReason, blankReason, badVersion, badRollback] =
      await Promise.all([
        run('train'),
        run('train', '--spec', 'flights', '--from', '2001-02-01', '--to', '2001-01-01'),
        run('train', '--spec', 'nosuch'),
        run('train', '--spec', 'flights', '--approval-timeout', 'soon'),
        run('reject', 'training/flight-delay/x', '--reviewer', 'ben'),
        run('reject', 'training/flight-delay/x', '--reviewer', 'ben', '--reason', ' '),
        run('models', 'show', MODEL, 'vX'),
        run('models', 'rollback', '--spec', 'flights', '--to', '0', '--reason', 'x'),
      ]);
    // commander's own errors print the usage after the error line.
    assert.equal(noSpec.code, 2);
    assert.equal(noSpec.stderr.split('\n')[0], "error: required option '--spec <name>' not specified");
    assert.equal(noReason.code, 2);
    assert.equal(noReason.stderr.split('\n')[0], "error: required option '--reason <text>' not specified");
    failedWith(backwards, 2, /^mlpipe train: from: --from must not be after --to$/);
    failedWith(unknownSpec, 2, /^mlpipe train: unknown spec "nosuch" \(known: .*flights/);
    failedWith(badTimeout, 2, /^mlpipe train: approvalTimeout: a duration like 72h/);
    failedWith(blankReason, 2, /^mlpipe reject: reason: a rejection needs a reason$/);
    failedWith(badVersion, 2, /^mlpipe models show: version must be a positive whole number, got vX$/);
    failedWith(badRollback, 2, /^mlpipe models rollback: toVersion: /);
  });

  test('a reviewer rejects a waiting run: exit 0, and the run fails as ApprovalRejected', async () => {
    const workflowId = await train('ana');
    const row = await pendingRow(workflowId);
    assert.equal(row.version, 1);
    const r = await run('reject', workflowId, '--reviewer', 'ben', '--reason', 'too weak');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `${workflowId}: rejected by ben: too weak`);
    const failed = await failureOf(workflowId);
    assert.equal(failed.type, 'ApprovalRejected');
    assert.match(failed.message, /rejected by ben: too weak/);
  });

  test('train, pending, review, refused approvals, approve: the candidate goes to production with its decisions', async () => {
    const workflowId = await train('ana');
    const row = await pendingRow(workflowId);
    assert.equal(row.model, MODEL);
    assert.equal(row.version, 2);
    assert.equal(row.initiatedBy, 'ana');

    // Reading and refused decisions change nothing, so they run side by side.
    const [review, byInitiator, byStranger] = await Promise.all([
      run('review', workflowId),
      run('approve', workflowId, '--reviewer', 'ana'),
      run('approve', workflowId, '--reviewer', 'mallory'),
    ]);
    assert.equal(review.code, 0, review.stderr);
    assert.match(
      review.stdout,
      new RegExp(`^${workflowId}: ${MODEL} v2, started by ana, waiting for ben, chen until `),
    );
    for (const segment of ['overall', 'hub_origin', 'other_origin', 'short_haul', 'long_haul']) {
      assert.match(
        review.stdout,
        new RegExp(`^${segment}\\s+\\d+\\s+\\d+\\.\\d%\\s+0\\.\\d{4}\\s`, 'm'),
        `an evaluation row for ${segment}`,
      );
    }
    assert.match(review.stdout, /^Comparison with the naive base-rate model: passed /m);
    assert.match(
      review.stdout,
      /^Skew check: \d+ rows replayed through POST \/predict for \d{4}-\d{2}-\d{2}, max \|serving - batch\| = /m,
    );
    failedWith(
      byInitiator,
      1,
      /^mlpipe approve: refused: ana started this run: another reviewer must decide \(four eyes\)$/,
    );
    failedWith(byStranger, 1, /^mlpipe approve: refused: mallory is not a reviewer of flight-delay/);

    const approved = await run('approve', workflowId, '--reviewer', 'ben', '--comment', 'looks right');
    assert.equal(approved.code, 0, approved.stderr);
    assert.equal(approved.stdout.trim(), `${workflowId}: approved by ben; promotion follows`);
    const result = await temporal.client.workflow.getHandle(workflowId).result();
    assert.equal(result.version, 2);

    const [list, show, late, unknownVersion] = await Promise.all([
      run('models', 'list'),
      run('models', 'show', MODEL, '2'),
      run('approve', workflowId, '--reviewer', 'chen'),
      run('models', 'show', MODEL, '9'),
    ]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(
      list.stdout,
      new RegExp(`^${MODEL}\\s+v2\\s+production\\s+0\\.\\d{4}\\s+0\\.\\d{4}\\s+${FROM}\\.\\.${TO}\\s`, 'm'),
    );
    assert.match(list.stdout, new RegExp(`^${MODEL}\\s+v1\\s+rejected\\s`, 'm'));
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, new RegExp(`^${MODEL} v2: production `));
    assert.match(show.stdout, new RegExp(`^\\S+\\s+approve\\s+ben\\s+looks right\\s+${workflowId}$`, 'm'));
    assert.match(show.stdout, new RegExp(`^\\S+\\s+promote\\s+ben\\s.*${workflowId}$`, 'm'));
    failedWith(
      late,
      1,
      new RegExp(`^mlpipe approve: ${workflowId} is not waiting for a decision: workflow execution already completed$`),
    );
    failedWith(unknownVersion, 1, /^mlpipe models show: flight-delay has no version 9$/);
  });

  test('models rollback: refused for a version never in production; restores an earlier production version', async () => {
    // A second production version, from a run whose gate accepts a candidate no better than v2.
    const second = await startTraining(temporal.client, config, {
      spec: 'flights-any-gain',
      from: FROM,
      to: TO,
      initiatedBy: 'chen',
      runId: 'cli-any-gain',
      taskQueue,
    });
    runFailedWith(
      await run(
        'models',
        'rollback',
        '--spec',
        'flights',
        '--to',
        '1',
        '--reason',
        'try the rejected one',
        '--as',
        'ben',
      ),
      /^mlpipe models rollback: .*flight-delay v1 \(rejected\) was never in production/,
    );
    await awaitingApproval(second.workflowId);
    const approved = await run('approve', second.workflowId, '--reviewer', 'ana');
    assert.equal(approved.code, 0, approved.stderr);
    assert.equal((await second.result()).previousVersion, 2);

    const rolledBack = await run(
      'models',
      'rollback',
      '--spec',
      'flights',
      '--to',
      'v2',
      '--reason',
      'v3 misbehaves',
      '--as',
      'ben',
    );
    assert.equal(rolledBack.code, 0, rolledBack.stderr);
    assert.match(rolledBack.stdout, /^rollback\/flight-delay\/v2-\S+: flight-delay v2 in production, v3 archived$/m);
    const [registry, show] = await Promise.all([versions(), run('models', 'show', MODEL, '2')]);
    assert.deepEqual(registry, [
      { version: 3, stage: 'archived' },
      { version: 2, stage: 'production' },
      { version: 1, stage: 'rejected' },
    ]);
    assert.match(show.stdout, /^\S+\s+rollback\s+ben\s+v3 misbehaves\s/m);
  });
});
