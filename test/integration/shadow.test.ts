import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { approvalView, decide, startTraining } from '../../src/client/training';
import { startMonitoring } from '../../src/client/monitoring';
import { artifactStoreFor } from '../../src/data/open-artifact-store';
import { openDuckDb, queryRows, sqlString, withConnection } from '../../src/data/duckdb';
import { openOnlineStore } from '../../src/features/online-store-factory';
import { createLogger } from '../../src/logger';
import { ModelArtifactSchema } from '../../src/ml/model-artifact';
import type { MonitoringReport } from '../../src/monitoring/report-types';
import { startServing } from '../../src/serving/server';
import { registerSpec } from '../../src/specs';
import { flightsSpec } from '../../src/specs/flights';
import { loadTrainingSpec } from '../../src/training/training-spec';
import { untilApprovalOrEnd } from '../../src/demo/run-outcome';
import { testConfig, uniqueTaskQueue, useWorker } from '../helpers/temporal';
import { useFlightFeatures } from '../helpers/training-data';
import { fixtureModelKey, publishFixture } from '../helpers/artifact-fixtures';

/**
 * Shadow deployment: a staged candidate scores every production request beside production (clients see
 * production's answer only), both are logged, the monitoring report compares them, and a spec's shadow
 * period holds back approval.
 */
const FROM = '2001-01-08';
const TO = '2001-01-21';
const SERVED_DAY = '2001-01-20';
const MODEL = 'flight-delay-shadow';
const FEATURES = loadTrainingSpec('flights').features;
const WEIGHTS = [1.5, 1.0, -0.3, 0.4, 0.1, 0.2];

const noRetraining = {
  ...flightsSpec.monitoring!,
  retrainOn: { datasetDrift: false, degradation: false, predictionDrift: false },
};
registerSpec({
  ...flightsSpec,
  name: 'flights-shadow',
  model: { ...flightsSpec.model!, name: MODEL, shadow: { minDays: 0 } },
  monitoring: noRetraining,
});
registerSpec({
  ...flightsSpec,
  name: 'flights-shadow-gate',
  model: { ...flightsSpec.model!, name: 'flight-delay-shadow-gate', shadow: { minDays: 3 } },
  monitoring: noRetraining,
});

const config = testConfig();
const taskQueue = uniqueTaskQueue('shadow');
const temporal = useWorker(config, taskQueue);
const artifacts = artifactStoreFor(config);
const data = useFlightFeatures(config, temporal, taskQueue, FROM, TO);

/** A logistic regression registered by hand; `sign` -1 gives the candidate that ranks every row the other way. */
async function registerVersion(key: string, sign: 1 | -1): Promise<number> {
  const artifact = ModelArtifactSchema.parse({
    kind: 'logistic-regression',
    features: FEATURES,
    standardizer: { means: [0.2, 0.2, 100, 12, 4, 6.5], stds: [0.1, 0.1, 50, 6, 2, 1] },
    weights: WEIGHTS.map((w) => sign * w),
    intercept: -1,
    threshold: 0.3,
    trainedAt: '2001-01-22T00:00:00Z',
    hyperParameters: { l2: 1e-4, maxIterations: 50, tolerance: 1e-10 },
    trainingDataHash: 'sha256:test',
    featureSetVersion: '1',
    specVersion: '1.0.0',
    codeVersion: 'test',
  });
  const artifactUri = await publishFixture(artifacts, fixtureModelKey(MODEL, key), {
    'model.json': JSON.stringify(artifact),
  });
  const reference = {
    rows: 1000,
    baseRate: 0.3,
    auc: 0.6,
    logLoss: 0.6,
    accuracy: 0.7,
    precision: 0.4,
    recall: 0.3,
    threshold: 0.3,
    ece: 0.05,
  };
  const { version } = await data.store.models.register({
    modelName: MODEL,
    registrationKey: key,
    artifactUri,
    metrics: { test: reference },
    lineage: {},
    workflowId: `training/${key}`,
    runId: 'r',
  });
  return version;
}

describe('shadow deployment', () => {
  test('the staged candidate scores production requests in shadow; the monitoring report shows where it disagrees', async () => {
    const production = await registerVersion('production', 1);
    await data.store.models.promote({
      dedupeKey: 'p',
      modelName: MODEL,
      version: production,
      decision: 'promote',
      actor: 'test',
      reason: 'test',
      workflowId: 'training/test',
    });
    const candidate = await registerVersion('candidate', -1);
    await data.store.models.deployToStaging(MODEL, candidate);

    const duck = await openDuckDb();
    const rows = await withConnection(duck, (conn) =>
      queryRows<{ date: string; origin: string; destination: string; distance: number }>(
        conn,
        `SELECT strftime(date, '%Y-%m-%dT%H:%M:%S') AS date, origin, destination, distance FROM read_parquet(${sqlString(path.resolve('node_modules/vega-datasets/data/flights-3m.parquet'))})
         WHERE date >= TIMESTAMP '${SERVED_DAY}' AND date < TIMESTAMP '${SERVED_DAY}' + INTERVAL 1 DAY ORDER BY date, origin, destination LIMIT 60`,
      ),
    );
    const server = await startServing(
      {
        logger: createLogger('warn'),
        store: data.store,
        online: openOnlineStore(undefined, data.store.db),
        duck,
        artifacts,
      },
      { host: '127.0.0.1', port: 0 },
    );
    const post = (body: unknown) =>
      fetch(`${server.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { version: number; requestId: string } }));
    try {
      const answered = await post({ model: MODEL, rows, requestId: 'shadowed' });
      assert.equal(answered.status, 200);
      assert.equal(answered.body.version, production, 'clients are answered by production');
      const asked = await post({ model: MODEL, stage: 'staging', rows: rows.slice(0, 2), requestId: 'staging-asked' });
      assert.equal(asked.body.version, candidate);
    } finally {
      await server.close();
      duck.closeSync();
    }
    const logged = await data.store.predictions.list({ modelName: MODEL, source: 'serving' });
    const shadowed = logged.filter((e) => e.requestId === 'shadowed');
    assert.equal(shadowed.length, rows.length);
    assert.ok(
      shadowed.every(
        (e) => e.modelVersion === production && e.shadow?.version === candidate && e.shadow.score !== e.score,
      ),
    );
    assert.ok(
      logged.filter((e) => e.requestId === 'staging-asked').every((e) => e.shadow === undefined),
      'a request for staging itself runs no shadow',
    );

    const handle = await startMonitoring(temporal.client, config, {
      spec: 'flights-shadow',
      from: SERVED_DAY,
      to: SERVED_DAY,
      taskQueue,
    });
    const result = await handle.result();
    const report = JSON.parse(
      fs.readFileSync(path.join(await artifacts.open(result.reportUri), 'report.json'), 'utf8'),
    ) as MonitoringReport;
    const [comparison] = report.shadow ?? [];
    assert.equal(comparison?.version, candidate);
    assert.equal(comparison.rows, rows.length);
    assert.ok(comparison.agreement < 1, `the candidate disagrees on some rows (agreement ${comparison.agreement})`);
    assert.ok(comparison.meanShift !== 0 && comparison.maxAbsDifference > 0.1);
    assert.equal(comparison.labelled, rows.length, 'the served day is in the dataset: every row has its label');
    assert.ok(comparison.auc, 'both AUCs on the labelled rows');
    assert.ok(
      Math.abs(comparison.auc.production + comparison.auc.shadow - 1) < 1e-9,
      'the reversed ranking has the complementary AUC',
    );
    const html = fs.readFileSync(path.join(await artifacts.open(result.reportUri), 'report.html'), 'utf8');
    assert.match(html, /Shadow: the staged candidate against production on served rows/);
  });

  test("a spec's shadow period refuses approval until it has passed", async () => {
    const handle = await startTraining(temporal.client, config, {
      spec: 'flights-shadow-gate',
      from: FROM,
      to: TO,
      initiatedBy: 'ana',
      runId: 'shadow-gate',
      taskQueue,
    });
    assert.deepEqual(await untilApprovalOrEnd(handle), { state: 'awaiting approval' });
    const view = await approvalView(temporal.client, handle.workflowId);
    const until = Date.parse(view.shadowUntil!);
    assert.ok(until - Date.now() > 2.9 * 24 * 3_600_000, `in shadow until ${view.shadowUntil}`);
    const refused = await decide(temporal.client, handle.workflowId, { decision: 'approve', reviewer: 'ben' }).then(
      () => assert.fail('the approval should have been refused'),
      (e: unknown) => e,
    );
    assert.ok(refused instanceof WorkflowUpdateFailedError);
    assert.match(
      String((refused.cause as Error).message),
      /runs in shadow until .* \(the spec asks for 3 day\(s\) before promotion\)/,
    );
    await decide(temporal.client, handle.workflowId, {
      decision: 'reject',
      reviewer: 'ben',
      reason: 'a rejection needs no shadow period',
    });
    await handle.result().catch(() => undefined);
  });
});
