import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import type { WorkflowHandle } from '@temporalio/client';
import { startIngestion } from '../../src/client/ingestion';
import { startBackfill } from '../../src/client/features';
import { approvalView, startTraining } from '../../src/client/training';
import { artifactStoreFor } from '../../src/data/open-artifact-store';
import { openDuckDb, sqlString } from '../../src/data/duckdb';
import { addDays } from '../../src/features/partition-dates';
import type { OnlineStore } from '../../src/features/online-store';
import { openOnlineStore } from '../../src/features/online-store-factory';
import { createLogger } from '../../src/logger';
import { startServing, type RunningServer } from '../../src/serving/server';
import { openMetadataStore, type MetadataStore } from '../../src/store/database';
import { approveSignal, type ApprovalView } from '../../src/api/approval';
import { progressQuery } from '../../src/api/progress';
import { REPO_ROOT, testConfig, uniqueTaskQueue, useWorker, waitFor } from '../helpers/temporal';
import { query } from '../helpers/sources';

/**
 * The second spec trains end to end with the same workflow and activities as flights: ingest the
 * bundled weather.csv, backfill its features, train wet-day, approve, promote, and serve a day.
 *
 * The window: 150 days, July to November 2014; the time split leaves its last 22 days
 * (2014-11-06..2014-11-27, 44 station-days) for the test. Training is deterministic (Newton steps,
 * no seed), and on this window the model scores test AUC 0.90 overall, Seattle 0.93, New York 0.87,
 * well above the spec's bounds (>= 0.6 per station, +0.1 over the base rate). Per-station AUC on 22
 * test days is noisy, so the window was picked where the neighbouring windows pass as well (150 days
 * starting 2014-06-17, 06-24, 07-08 or 07-15: weakest station 0.68, 0.95, 0.70, 0.67), not where
 * a single window happens to pass; some other 150-day windows of 2012-2015 fail the bias gate.
 */
const FROM = '2014-07-01';
const TO = '2014-11-27';
const MODEL = 'wet-day';
const WEATHER_CSV = path.join(REPO_ROOT, 'node_modules', 'vega-datasets', 'data', 'weather.csv');

const config = testConfig();
const taskQueue = uniqueTaskQueue('weather-training');
const temporal = useWorker(config, taskQueue);
let store: MetadataStore;

before(async () => {
  const client = await temporal.ready();
  // The newest day is 2015-12-31, stamped at its midnight: a day later it is a fresh delivery.
  await (
    await startIngestion(client, config, {
      spec: 'weather',
      batch: 'weather-training',
      asOf: '2016-01-01T00:00:00Z',
      taskQueue,
    })
  ).result();
  await (
    await startBackfill(client, config, { spec: 'weather', from: FROM, to: TO, concurrency: 8, taskQueue })
  ).result();
  store = await openMetadataStore(config.databaseUrl);
});
after(async () => {
  await store?.close();
});

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

describe('training the weather spec', () => {
  test('wet-day trains, passes every gate, is approved and promoted, and serves the next day', async () => {
    const handle = await startTraining(temporal.client, config, {
      spec: 'weather',
      from: FROM,
      to: TO,
      initiatedBy: 'dana',
      runId: 'test-1',
      taskQueue,
    });
    const view = await awaitingApproval(handle);
    assert.equal(view.modelName, MODEL);
    assert.equal(view.version, 1);
    assert.deepEqual(view.reviewers, ['dana', 'eli']);

    const evaluation = view.evaluation!;
    assert.deepEqual(
      [evaluation.test.from, evaluation.test.to, evaluation.test.rows],
      ['2014-11-06', '2014-11-27', 44],
      'the last 22 days, two stations each',
    );
    assert.ok(evaluation.test.overall.auc >= 0.8, `test AUC ${evaluation.test.overall.auc}`);
    const stations = Object.fromEntries(evaluation.test.segments.map((s) => [s.name, s]));
    assert.deepEqual(Object.keys(stations), ['seattle', 'new_york']);
    for (const s of Object.values(stations)) {
      assert.equal(s.rows, 22);
      assert.ok(s.metrics!.auc >= 0.8, `${s.name} test AUC ${s.metrics!.auc}`);
    }

    const comparison = view.comparison!;
    assert.equal(comparison.against, 'baseline', 'a first model is judged against the base rate');
    assert.equal(comparison.passed, true);
    const overall = comparison.rows.find((r) => r.scope === 'overall')!;
    assert.equal(overall.reference, 0.5, 'a constant score ranks nothing');
    assert.ok(overall.candidate! - overall.reference! >= 0.1);

    const bias = view.bias!;
    assert.equal(bias.passed, true);
    assert.deepEqual(
      bias.rows.map((r) => [r.segment, r.verdict]),
      [
        ['seattle', 'pass'],
        ['new_york', 'pass'],
      ],
    );

    const skew = view.skew!;
    assert.equal(skew.day, addDays(TO, 1), 'replayed on the day the online store serves');
    assert.ok(skew.rows > 0, 'the skew check replayed rows');
    assert.ok(skew.maxAbsDifference <= 1e-9, `serving and batch scores agree (${skew.maxAbsDifference})`);

    await handle.signal(approveSignal, { reviewer: 'eli', comment: 'both stations well above the bound' });
    const result = await handle.result();
    assert.equal(result.modelName, MODEL);
    assert.equal(result.version, 1);
    assert.equal(result.approvedBy, 'eli');
    assert.equal(result.previousVersion, undefined);

    const production = await store.models.production(MODEL);
    assert.equal(production?.version, 1);
    const lineage = production!.lineage as Record<string, unknown>;
    assert.equal(lineage.spec, 'weather');
    assert.equal(lineage.featureSet, 'wet_day');
    assert.equal(lineage.featureSetVersion, '1');
    assert.deepEqual(lineage.window, { spec: 'weather', from: FROM, to: TO });
    assert.match(String(lineage.trainingDataHash), /^[0-9a-f]{64}$/);
    assert.deepEqual(
      (await store.models.decisions(MODEL, 1)).map((d) => [d.decision, d.actor]),
      [
        ['approve', 'eli'],
        ['promote', 'eli'],
      ],
    );

    await predictTheNextDay();
  });
});

/** The promoted model through the prediction server, as a client calls it on the day after the window. */
async function predictTheNextDay(): Promise<void> {
  const day = addDays(TO, 1);
  const [reading] = await query<{ temp_max: number; temp_min: number; wind: number }>(
    `SELECT temp_max, temp_min, wind FROM read_csv(${sqlString(WEATHER_CSV)}) WHERE location = 'Seattle' AND date = DATE ${sqlString(day)}`,
  );
  assert.ok(reading, `weather.csv has Seattle on ${day}`);
  let duck: DuckDBInstance | undefined;
  let online: OnlineStore | undefined;
  let server: RunningServer | undefined;
  try {
    duck = await openDuckDb();
    online = openOnlineStore(config.MLPIPE_ONLINE_STORE_URL, store.db);
    server = await startServing(
      { logger: createLogger('silent'), store, online, duck, artifacts: artifactStoreFor(config) },
      { host: '127.0.0.1', port: 0 },
    );
    const response = await fetch(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        requestId: 'seattle-next-day',
        rows: [{ date: day, location: 'Seattle', ...reading }],
      }),
    });
    const body = (await response.json()) as {
      version: number;
      stage: string;
      predictions: { score: number; featureSources: Record<string, string> }[];
    };
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.version, 1);
    assert.equal(body.stage, 'production');
    const [prediction] = body.predictions;
    assert.ok(prediction!.score > 0 && prediction!.score < 1, `score ${prediction!.score}`);
    // The station's last week comes from the snapshot the window's last partition wrote, valid from this day.
    for (const feature of ['wet_share_7d', 'precip_mean_7d', 'temp_max_mean_7d'])
      assert.equal(prediction!.featureSources[feature], 'fresh', feature);
  } finally {
    await server?.close();
    await online?.close();
    duck?.closeSync();
  }
}
