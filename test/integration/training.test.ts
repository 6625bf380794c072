import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { approvalView, decide, pendingApprovals, startRollback, startTraining } from '../../src/client/training';
import { artifactStoreFor } from '../../src/data/open-artifact-store';
import { readMatrixFile } from '../../src/ml/matrix-file';
import { registerSpec } from '../../src/specs';
import { flightsSpec } from '../../src/specs/flights';
import { openMetadataStore, type MetadataStore } from '../../src/store/database';
import { approveSignal, rejectSignal, type ApprovalView } from '../../src/api/approval';
import { progressQuery } from '../../src/api/progress';
import type { TrainingPipeline } from '../../src/api/training';
import { testConfig, uniqueTaskQueue, useWorker, waitFor } from '../helpers/temporal';
import { publishFlightFeatures } from '../helpers/training-data';
import { saveHistory } from '../helpers/histories';
import { hideArtifacts } from '../helpers/artifact-fixtures';
import { outcomeText, untilApprovalOrEnd } from '../../src/demo/run-outcome';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import { openActivityDeps } from '../../activities/open-deps';
import { createLogger } from '../../src/logger';
import type { ModelArtifact } from '../../src/ml/model-artifact';

/**
 * The training pipeline on two weeks of real flight features, against a real server: the human gate
 * (approve, reject, timeout, refused decisions), the quality and bias gates, a feature store outage,
 * promotion with the skew check, and rollback.
 */
const FROM = '2001-01-08';
const TO = '2001-01-21';
const MODEL = 'flight-delay';

// Variants of the bundled spec, registered before the worker starts (same model, other gates).
registerSpec({
  ...flightsSpec,
  name: 'flights-any-gain',
  model: { ...flightsSpec.model!, promotion: { ...flightsSpec.model!.promotion, minImprovement: 0 } },
});
registerSpec({
  ...flightsSpec,
  name: 'flights-strict-parity',
  model: {
    ...flightsSpec.model!,
    promotion: { ...flightsSpec.model!.promotion, minImprovement: 0 },
    bias: [{ metric: 'auc', min: 0.99 }],
  },
});

const config = testConfig();
const taskQueue = uniqueTaskQueue('training');
const artifacts = artifactStoreFor(config);
const temporal = useWorker(config, taskQueue);
let store: MetadataStore;
let runs = 0;

before(async () => {
  await publishFlightFeatures(await temporal.ready(), config, taskQueue, FROM, TO);
  store = await openMetadataStore(config.databaseUrl);
});
after(async () => {
  await store?.close();
});

function train(
  options: { spec?: string; by?: string; approvalTimeout?: string } = {},
): Promise<WorkflowHandle<TrainingPipeline>> {
  return startTraining(temporal.client, config, {
    spec: options.spec ?? 'flights',
    from: FROM,
    to: TO,
    initiatedBy: options.by ?? 'ana',
    approvalTimeout: options.approvalTimeout,
    runId: `test-${++runs}`,
    taskQueue,
  });
}

async function awaitingApproval(handle: WorkflowHandle): Promise<ApprovalView> {
  await waitFor(
    `${handle.workflowId} to wait for approval`,
    async () =>
      (await handle.query(progressQuery)).stage === 'AwaitingApproval' ||
      (await handle.describe()).status.name !== 'RUNNING',
    120_000,
    250,
  );
  const view = await approvalView(temporal.client, handle.workflowId);
  assert.equal(view.status, 'waiting', `${handle.workflowId} waits for approval`);
  return view;
}

async function failure(handle: WorkflowHandle): Promise<{ type?: string; message: string }> {
  const error = await handle.result().then(
    () => assert.fail('the run should have failed'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof WorkflowFailedError);
  const cause = error.cause as { type?: string; message: string };
  return { type: cause.type, message: cause.message };
}

async function activityTypes(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).flatMap((e) =>
    e.activityTaskScheduledEventAttributes?.activityType?.name
      ? [e.activityTaskScheduledEventAttributes.activityType.name]
      : [],
  );
}

async function refusal(client: Client, workflowId: string, request: Parameters<typeof decide>[2]): Promise<string> {
  const error = await decide(client, workflowId, request).then(
    () => assert.fail('the decision should have been refused'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof WorkflowUpdateFailedError, `an Update failure, got ${String(error)}`);
  return String((error.cause as Error | undefined)?.message ?? error.message);
}

describe('training pipeline', () => {
  test('a rejected candidate is recorded with the reviewer and reason, and never reaches production', async () => {
    const handle = await train();
    assert.match(
      await refusal(temporal.client, handle.workflowId, { decision: 'approve', reviewer: 'ben' }),
      /not waiting for approval/,
    );
    const view = await awaitingApproval(handle);
    assert.equal(view.modelName, MODEL);
    assert.equal(view.version, 1);
    assert.deepEqual(view.reviewers, ['ana', 'ben', 'chen']);
    assert.ok(view.evaluation!.test.overall.auc > 0.55, 'the evaluation is in the query');
    assert.equal(view.comparison?.against, 'baseline');
    // Visibility is eventually consistent: the AwaitingApproval search attribute is indexed shortly after the query shows the stage.
    await waitFor(
      'mlpipe pending to list it',
      async () => (await pendingApprovals(temporal.client, MODEL)).some((p) => p.workflowId === handle.workflowId),
      30_000,
      250,
    );

    assert.match(
      await refusal(temporal.client, handle.workflowId, { decision: 'approve', reviewer: 'mallory' }),
      /mallory is not a reviewer/,
    );
    assert.match(
      await refusal(temporal.client, handle.workflowId, { decision: 'approve', reviewer: 'ana' }),
      /four eyes/,
    );
    await handle.signal(approveSignal, { reviewer: 'ana' }); // the initiator, by signal: ignored too
    await handle.signal(rejectSignal, { reviewer: 'ben', reason: 'evening flights look miscalibrated' });
    const failed = await failure(handle);
    assert.equal(failed.type, 'ApprovalRejected');
    assert.match(failed.message, /rejected by ben: evening flights look miscalibrated/);
    const version = await store.models.get(MODEL, 1);
    assert.equal(version?.stage, 'rejected');
    const decisions = await store.models.decisions(MODEL, 1);
    assert.deepEqual(
      decisions.map((d) => [d.decision, d.actor, d.reason]),
      [['reject', 'ben', 'evening flights look miscalibrated']],
    );
    assert.equal(await store.models.production(MODEL), undefined);
    const final = await approvalView(temporal.client, handle.workflowId);
    assert.ok(
      final.ignoredSignals?.some((s) => s.reviewer === 'ana' && /four eyes/.test(s.why)),
      'the ignored signal is visible',
    );
    await saveHistory('training-rejected', handle);
  });

  test('without a decision before the deadline the run is rejected as ApprovalTimedOut, with an alert', async () => {
    const handle = await train({ approvalTimeout: '3s' });
    const failed = await failure(handle);
    assert.equal(failed.type, 'ApprovalTimedOut');
    const version = await store.models.get(MODEL, 2);
    assert.equal(version?.stage, 'rejected');
    assert.deepEqual(
      (await store.models.decisions(MODEL, 2)).map((d) => [d.decision, d.actor]),
      [['timeout', 'deadline']],
    );
    const alerts = await store.alerts.listRecent({ limit: 50 });
    assert.ok(
      alerts.some((a) => a.code === 'ApprovalTimedOut' && a.workflowId === handle.workflowId),
      'an alert was raised',
    );
  });

  test('an approved candidate passes the skew check, is promoted, and gets a monitoring baseline; duplicate approvals are harmless', async () => {
    const handle = await train();
    const view = await awaitingApproval(handle);
    assert.equal(outcomeText(await untilApprovalOrEnd(handle)), 'waiting for a reviewer (mlpipe pending lists it)');
    const skew = view.skew!;
    assert.ok(skew.rows >= 20, `the skew check replayed ${skew.rows} rows`);
    assert.ok(skew.maxAbsDifference <= 1e-9, `serving and batch scores agree (${skew.maxAbsDifference})`);
    const decision = await decide(temporal.client, handle.workflowId, {
      decision: 'approve',
      reviewer: 'ben',
      comment: 'beats the base rate on every segment',
    });
    assert.equal(decision.reviewer, 'ben');
    await handle.signal(approveSignal, { reviewer: 'chen' });
    await handle.signal(approveSignal, { reviewer: 'ben' });
    const result = await handle.result();
    assert.equal(result.version, 3);
    assert.equal(result.approvedBy, 'ben');
    const production = await store.models.production(MODEL);
    assert.equal(production?.version, 3);
    const decisions = await store.models.decisions(MODEL, 3);
    assert.deepEqual(
      decisions.map((d) => [d.decision, d.actor]),
      [
        ['approve', 'ben'],
        ['promote', 'ben'],
      ],
    );
    assert.equal(decisions[0]!.reason, 'beats the base rate on every segment');
    const lineage = production!.lineage as Record<string, unknown>;
    assert.equal(lineage.featureSetVersion, '1');
    assert.equal(lineage.specVersion, '1.0.0');
    assert.match(String(lineage.codeVersion), /^0\.1\.0\+[0-9a-f]{12}$/);
    assert.match(String(lineage.trainingDataHash), /^[0-9a-f]{64}$/);
    const baseline = await readMatrixFile(path.join(await artifacts.open(result.baselineUri), 'baseline.bin'));
    assert.ok(
      baseline.features.includes('prediction') && baseline.rows > 1000,
      'the baseline holds the test rows and their scores',
    );
    const model = JSON.parse(
      fs.readFileSync(path.join(await artifacts.open(result.artifactUri), 'model.json'), 'utf8'),
    ) as Record<string, unknown>;
    assert.equal(model.trainingDataHash, lineage.trainingDataHash);
    const logged = await store.predictions.count({ modelName: MODEL, source: 'skew-check' });
    assert.ok(logged >= skew.rows, 'the skew check went through the logged serving path');
    const view2 = await approvalView(temporal.client, handle.workflowId);
    assert.equal(view2.decision?.reviewer, 'ben', 'the first decision stands');
    assert.equal(view2.ignoredSignals?.length, 2);
    await saveHistory('training-approved', handle);
  });

  test('a candidate no better than production stops at the quality gate with the comparison, and nothing after it runs', async () => {
    const handle = await train();
    const failed = await failure(handle);
    assert.equal(failed.type, 'ModelQualityGateFailed');
    assert.match(failed.message, /Comparing failed: candidate does not beat production/);
    // What the demo reports of a retraining child that stopped here (it once said "it will wait for a reviewer").
    assert.match(
      outcomeText(await untilApprovalOrEnd(handle)),
      /^failed: ModelQualityGateFailed: Comparing failed: candidate does not beat production/,
    );
    const types = await activityTypes(handle);
    assert.ok(types.includes('compareWithProduction'));
    assert.ok(!types.includes('registerCandidate'), 'nothing is registered');
    assert.equal((await store.models.list(MODEL)).length, 3);
    const alerts = await store.alerts.listRecent({ limit: 50 });
    const alert = alerts.find((a) => a.workflowId === handle.workflowId && a.code === 'ModelQualityGateFailed');
    assert.ok(alert?.observed && alert.expected, 'the alert says observed against expected');
  });

  test('a candidate below a segment-parity bound is stopped at the bias gate and marked rejected', async () => {
    const handle = await train({ spec: 'flights-strict-parity' });
    const failed = await failure(handle);
    assert.equal(failed.type, 'BiasGateFailed');
    assert.match(failed.message, /BiasGate failed: .*hub_origin/);
    assert.ok(!(await activityTypes(handle)).includes('deployToStaging'));
    const rejected = (await store.models.list(MODEL)).find((m) => m.workflowId === handle.workflowId);
    assert.equal(rejected?.stage, 'rejected');
    assert.deepEqual(
      (await store.models.decisions(MODEL, rejected!.version)).map((d) => [d.decision, d.actor]),
      [['reject', 'bias-gate']],
    );
  });

  test('rollback restores the previous production version and records who and why', async () => {
    const handle = await train({ spec: 'flights-any-gain', by: 'chen' });
    await awaitingApproval(handle);
    await handle.signal(approveSignal, { reviewer: 'ana', comment: 'same data, same model' });
    const promoted = await handle.result();
    assert.equal(promoted.previousVersion, 3);
    assert.equal((await store.models.get(MODEL, 3))?.stage, 'archived');
    const rollback = await startRollback(temporal.client, config, {
      spec: 'flights',
      toVersion: 3,
      requestedBy: 'ben',
      reason: 'v' + promoted.version + ' misbehaves in the evening',
      taskQueue,
    });
    const result = await rollback.result();
    assert.deepEqual(result, { modelName: MODEL, version: 3, previous: promoted.version });
    await saveHistory('model-rollback', rollback);
    assert.equal((await store.models.production(MODEL))?.version, 3);
    assert.equal((await store.models.get(MODEL, promoted.version))?.stage, 'archived');
    const decisions = await store.models.decisions(MODEL, 3);
    assert.deepEqual(decisions.at(-1) && [decisions.at(-1)!.decision, decisions.at(-1)!.actor], ['rollback', 'ben']);
    const refused = await startRollback(temporal.client, config, {
      spec: 'flights',
      toVersion: 1,
      requestedBy: 'ben',
      reason: 'try the rejected one',
      taskQueue,
    });
    const error = await refused.result().catch((e: unknown) => e);
    assert.ok(error instanceof WorkflowFailedError);
    assert.match(String((error.cause as Error).message), /never in production/);
  });

  test('the feature store unavailable during extraction: retried with backoff, then the run fails with an alert and nothing after extraction runs', async () => {
    const restore = await hideArtifacts(config, 'features');
    try {
      const handle = await train();
      const failed = await failure(handle);
      assert.match(failed.message, /Extracting failed: feature store unavailable/);
      const history = await handle.fetchHistory();
      const attempts = (history.events ?? []).flatMap((e) =>
        e.activityTaskFailedEventAttributes
          ? []
          : e.activityTaskStartedEventAttributes
            ? [e.activityTaskStartedEventAttributes.attempt ?? 1]
            : [],
      );
      assert.equal(Math.max(...attempts), 5, 'five attempts before giving up');
      const types = await activityTypes(handle);
      assert.deepEqual(
        types.filter((t) => t !== 'notify'),
        ['planTraining', 'extractTrainingWindow'],
      );
      const alerts = await store.alerts.listRecent({ limit: 50 });
      assert.ok(alerts.some((a) => a.workflowId === handle.workflowId && a.severity === 'critical'));
    } finally {
      await restore();
    }
  });

  test('a run started before steps handed each other URIs (window-only arguments, one work area per run) builds the same model, and its version is promoted with a baseline', async () => {
    const opened = await openActivityDeps(config, createLogger('warn'));
    const acts = createActivities(opened.deps);
    const window = { spec: 'flights', from: FROM, to: TO };
    /** The data and model steps up to evaluation, each its own activity call, as a run schedules them. */
    const steps = async (env: MockActivityEnvironment, handsOverUris: boolean) => {
      const call = <T>(step: () => Promise<T>) => env.run(step) as Promise<T>;
      const input = (inputs: Record<string, string>) => (handsOverUris ? { ...window, inputs } : window);
      const extracted = await call(() => acts.extractTrainingWindow(input({})));
      await call(() => acts.validateTrainingData(input({ window: extracted.uri })));
      const transformed = await call(() => acts.transformTrainingData(input({ window: extracted.uri })));
      const matrix = await call(() => acts.assembleFeatureMatrix(input({ transformed: transformed.uri })));
      const split = await call(() => acts.splitByTime(input({ matrix: matrix.uri })));
      const fit = { matrix: matrix.uri, split: split.uri, transformed: transformed.uri };
      const trained = await call(() => acts.trainModel(input(fit)));
      const evaluated = await call(() => acts.evaluateModel(input({ ...fit, model: trained.uri })));
      const modelFile = handsOverUris ? await artifacts.open(trained.uri) : trained.uri;
      const { weights, intercept } = JSON.parse(fs.readFileSync(modelFile, 'utf8')) as ModelArtifact & {
        weights: number[];
        intercept: number;
      };
      const { uri: _split, ...splitRows } = split;
      return {
        sha256: matrix.sha256,
        rows: matrix.rows,
        split: splitRows,
        weights,
        intercept,
        test: evaluated.test,
        modelUri: trained.uri,
      };
    };
    try {
      const current = await steps(new MockActivityEnvironment(), true);
      assert.match(current.modelUri, /^artifact:models\/flight-delay\/runs\/.+\.train\/model\.json$/);
      const legacyRun = new MockActivityEnvironment({
        workflowExecution: { workflowId: 'training/flight-delay/legacy', runId: 'legacy-1' },
      });
      const legacy = await steps(legacyRun, false);
      assert.ok(
        path.isAbsolute(legacy.modelUri),
        `a legacy step returns a path in its run's work area: ${legacy.modelUri}`,
      );
      const { modelUri: _current, ...same } = current;
      const { modelUri: _legacy, ...legacySame } = legacy;
      assert.deepEqual(legacySame, same);

      // Registered then, promoted now: the baseline is scored from the matrix in the run's work area.
      const legacyCall = <T>(step: () => Promise<T>) => legacyRun.run(step) as Promise<T>;
      const { version } = await legacyCall(() =>
        acts.registerCandidate({ ...window, initiatedBy: 'ana', reason: 'a run from before' }),
      );
      const registered = await store.models.get(MODEL, version);
      assert.equal(registered?.lineage.trainingMatrix, undefined, 'a legacy run names no matrix URI');
      const { baselineUri } = await legacyCall(() => acts.promoteModel({ spec: 'flights', version, approvedBy: 'bo' }));
      const baseline = await readMatrixFile(path.join(await artifacts.open(baselineUri), 'baseline.bin'));
      assert.equal(baseline.rows, legacy.rows, 'the whole training window, scored');
    } finally {
      await opened.close();
    }
  });
  test('a step handed an input that is not there fails at once, naming it: nothing published, not an artifact, or a legacy run whose work area is gone', async () => {
    const opened = await openActivityDeps(config, createLogger('warn'));
    const acts = createActivities(opened.deps);
    const window = { spec: 'flights', from: FROM, to: TO };
    const call = <T>(step: () => Promise<T>) => new MockActivityEnvironment().run(step) as Promise<T>;
    const refused = (pattern: RegExp) => (e: Error & { type?: string; nonRetryable?: boolean }) =>
      e.type === 'InvalidInput' && e.nonRetryable === true && pattern.test(e.message);
    try {
      for (const [matrix, why] of [
        ['artifact:models/flight-delay/runs/nothing.assemble/matrix.bin', /matrix this step reads .* is not published/],
        ['artifact:models/flight-delay/../../../etc/passwd', /not an artifact of this store/],
      ] as const)
        await assert.rejects(
          call(() => acts.splitByTime({ ...window, inputs: { matrix } })),
          refused(why),
          matrix,
        );
      const legacy = new MockActivityEnvironment({
        workflowExecution: { workflowId: 'training/flight-delay/area-gone', runId: 'gone-1' },
      });
      await assert.rejects(
        legacy.run(() => acts.transformTrainingData(window)) as Promise<unknown>,
        refused(/the run's window .* is gone from its work area; start a new run/),
      );
    } finally {
      await opened.close();
    }
  });
});
