import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { decide, startTraining } from '../../src/client/training';
import { untilApprovalOrEnd } from '../../src/demo/run-outcome';
import { connect, spawnWorker, testConfig, uniqueTaskQueue, waitFor, type WorkerProcess } from '../helpers/temporal';
import { publishFlightFeatures } from '../helpers/training-data';

/**
 * A rollout with Worker Versioning, as the README's runbook does it: build v1 serves; a run waits for
 * its reviewer; build v2 starts and becomes the deployment's current version; the waiting run finishes
 * on v1 while a new run starts and finishes on v2; rolling back makes v1 current again for new runs.
 */
const FROM = '2001-01-08';
const TO = '2001-01-14';
const config = testConfig();
const taskQueue = uniqueTaskQueue('versioning');
const deployment = `mlpipe-test-${randomUUID().slice(0, 8)}`;
const spawned: WorkerProcess[] = [];
let client: Client;

const build = (buildId: string) =>
  spawned[
    spawned.push(spawnWorker(config, taskQueue, { MLPIPE_DEPLOYMENT_NAME: deployment, MLPIPE_BUILD_ID: buildId })) - 1
  ]!;

/** `temporal worker deployment set-current-version`, the runbook's switch (waits until the version has pollers). */
async function setCurrent(buildId: string): Promise<void> {
  const cli = process.env.TEMPORAL_CLI_PATH;
  assert.ok(cli, 'npm test provides TEMPORAL_CLI_PATH');
  const args = ['worker', 'deployment', 'set-current-version', '--deployment-name', deployment, '--build-id', buildId];
  const common = ['--address', config.TEMPORAL_ADDRESS, '--namespace', config.TEMPORAL_NAMESPACE, '--yes'];
  await waitFor(
    `${deployment}.${buildId} to become current`,
    async () =>
      promisify(execFile)(cli, [...args, ...common]).then(
        () => true,
        () => false, // refused until the version's workers have polled
      ),
    60_000,
    500,
  );
}

/** The build a run is pinned to, from the server's own record of it. */
async function pinnedBuild(handle: WorkflowHandle): Promise<string | undefined> {
  const info = (await handle.describe()).raw.workflowExecutionInfo;
  return info?.versioningInfo?.deploymentVersion?.buildId ?? undefined;
}

const train = (runId: string) =>
  startTraining(client, config, { spec: 'flights', from: FROM, to: TO, initiatedBy: 'ana', runId, taskQueue });

before(async () => {
  client = await connect(config);
  build('v1');
  await setCurrent('v1');
  await publishFlightFeatures(client, config, taskQueue, FROM, TO);
});
after(async () => {
  for (const w of spawned) w.child.kill('SIGKILL');
  await client?.connection.close();
});

test('a new build rolls out for new runs while a running one finishes on its own build; a rollback sends new runs back', async () => {
  const old = await train('started-on-v1');
  assert.deepEqual(await untilApprovalOrEnd(old), { state: 'awaiting approval' });
  assert.equal(await pinnedBuild(old), 'v1');

  build('v2');
  await setCurrent('v2');
  const fresh = await train('started-on-v2');
  assert.deepEqual(await untilApprovalOrEnd(fresh), { state: 'awaiting approval' });
  assert.equal(await pinnedBuild(fresh), 'v2', 'a run started after the rollout runs on the new build');

  // The older run's reviewer decides only now: its remaining steps still run on v1.
  await decide(client, old.workflowId, { decision: 'reject', reviewer: 'ben', reason: 'rollout test' });
  await old.result().catch(() => undefined);
  assert.equal(await pinnedBuild(old), 'v1', 'the run started on v1 finished on v1');
  const completedOn = (await old.fetchHistory()).events
    ?.flatMap((e) => e.workflowTaskCompletedEventAttributes?.deploymentVersion?.buildId ?? [])
    .filter(Boolean);
  assert.ok(completedOn?.length, 'workflow tasks record the build that ran them');
  assert.deepEqual([...new Set(completedOn)], ['v1'], 'every workflow task of the older run ran on v1');

  await decide(client, fresh.workflowId, { decision: 'reject', reviewer: 'ben', reason: 'rollout test' });
  await fresh.result().catch(() => undefined);

  // Rollback: v1 current again; the next run starts there.
  await setCurrent('v1');
  const rolledBack = await train('after-rollback');
  assert.deepEqual(await untilApprovalOrEnd(rolledBack), { state: 'awaiting approval' });
  assert.equal(await pinnedBuild(rolledBack), 'v1');
  await decide(client, rolledBack.workflowId, { decision: 'reject', reviewer: 'ben', reason: 'rollout test' });
  await rolledBack.result().catch(() => undefined);
});
