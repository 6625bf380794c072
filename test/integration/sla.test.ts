import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, startTraining } from '../../src/client/training';
import { registerSpec } from '../../src/specs';
import { flightsSpec } from '../../src/specs/flights';
import { untilApprovalOrEnd } from '../../src/demo/run-outcome';
import type { PipelineReliability } from '../../src/cli/pipeline-reliability';
import { mlpipe } from '../helpers/cli';
import { configEnv, testConfig, uniqueTaskQueue, useWorker, waitFor } from '../helpers/temporal';
import { useFlightFeatures } from '../helpers/training-data';

/**
 * A training SLA (`model.sla.completeWithinHours`) is a durable timer: the alert is raised while the
 * late run still runs, and a run done in time raises none.
 */
const FROM = '2001-01-08';
const TO = '2001-01-21';
const config = testConfig();
const taskQueue = uniqueTaskQueue('sla');
// 0.0005 h = 1.8 s: late long before the run can reach its reviewers.
registerSpec({
  ...flightsSpec,
  name: 'flights-sla-tight',
  model: { ...flightsSpec.model!, sla: { completeWithinHours: 0.0005 } },
});
registerSpec({
  ...flightsSpec,
  name: 'flights-sla-loose',
  model: { ...flightsSpec.model!, sla: { completeWithinHours: 2 } },
});
const temporal = useWorker(config, taskQueue);
const data = useFlightFeatures(config, temporal, taskQueue, FROM, TO);

// The test namespace served other test files before this one: count only this file's runs.
const since = new Date().toISOString();

const slaAlerts = async (workflowId: string) =>
  (await data.store.alerts.listRecent({ limit: 100 })).filter(
    (a) => a.workflowId === workflowId && a.code === 'SlaMissed',
  );

test('a late training run raises SlaMissed while it still runs, saying where it is', async () => {
  const handle = await startTraining(temporal.client, config, {
    spec: 'flights-sla-tight',
    from: FROM,
    to: TO,
    initiatedBy: 'ana',
    runId: 'sla-late',
    taskQueue,
  });
  await waitFor('the SLA alert', async () => (await slaAlerts(handle.workflowId)).length > 0, 60_000, 100);
  const { status } = await handle.describe();
  assert.equal(status.name, 'RUNNING', 'raised before the run ended');
  const [alert] = await slaAlerts(handle.workflowId);
  assert.equal(alert!.severity, 'critical');
  assert.match(alert!.message, /not done within 0\.0005 h of its start/);
  assert.match(String(alert!.observed), /^still running, at [A-Za-z]+$/);

  assert.deepEqual(await untilApprovalOrEnd(handle), { state: 'awaiting approval' });
  await decide(temporal.client, handle.workflowId, {
    decision: 'reject',
    reviewer: 'ben',
    reason: 'the SLA test is done with it',
  });
  await handle.result().catch(() => undefined);
  assert.equal((await slaAlerts(handle.workflowId)).length, 1, 'one alert per late run');
});

test('a run done within its SLA raises no SLA alert; mlpipe status shows compliance, failure rate and time to recover', async () => {
  const handle = await startTraining(temporal.client, config, {
    spec: 'flights-sla-loose',
    from: FROM,
    to: TO,
    initiatedBy: 'ana',
    runId: 'sla-on-time',
    taskQueue,
  });
  assert.deepEqual(await untilApprovalOrEnd(handle), { state: 'awaiting approval' });
  await decide(temporal.client, handle.workflowId, { decision: 'approve', reviewer: 'ben' });
  await handle.result();
  assert.deepEqual(await slaAlerts(handle.workflowId), []);
  const history = await handle.fetchHistory();
  const timers = (history.events ?? []).filter((e) => e.timerStartedEventAttributes);
  assert.ok(timers.length >= 1, 'the SLA timer was set (and never fired)');
  assert.equal((history.events ?? []).filter((e) => e.timerFiredEventAttributes).length, 0);

  // Temporal's own record of both runs: the late one rejected (failed), this one promoted after it.
  let training: PipelineReliability | undefined;
  await waitFor(
    'both training runs in the visibility record',
    async () => {
      const r = await mlpipe(['status', '--pipelines', '--json', '--since', since], configEnv(config));
      assert.equal(r.code, 0, r.stderr);
      training = (JSON.parse(r.stdout) as PipelineReliability[]).find((p) => p.kind === 'training');
      return training?.runs === 2 && training.running === 0;
    },
    30_000,
    500,
  );
  assert.equal(training!.failed, 1);
  assert.equal(training!.failureRate, 0.5);
  assert.equal(training!.recoveries, 1, 'the failed run was followed by a successful one');
  assert.ok(training!.meanHoursToRecover! > 0);
  assert.deepEqual(training!.sla, { met: 1, missed: 1, compliance: 0.5 });
  const text = await mlpipe(['status', '--pipelines', '--since', since], configEnv(config));
  assert.match(text.stdout, /training\s+2\s+0\s+1\s+50%\s+[\d.]+ h \(1 recovered\)\s+50% \(1 met, 1 missed\)/);
});
