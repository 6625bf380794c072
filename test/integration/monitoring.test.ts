import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startIngestion } from '../../src/client/ingestion';
import { startBackfill } from '../../src/client/features';
import { startMonitoring } from '../../src/client/monitoring';
import { startTraining } from '../../src/client/training';
import { artifactStoreFor } from '../../src/data/open-artifact-store';
import { openDuckDb } from '../../src/data/duckdb';
import { openOnlineStore } from '../../src/features/online-store-factory';
import { createLogger } from '../../src/logger';
import { startServing } from '../../src/serving/server';
import { openMetadataStore, type MetadataStore } from '../../src/store/database';
import { approveSignal } from '../../src/api/approval';
import { progressQuery } from '../../src/api/progress';
import { testConfig, uniqueTaskQueue, useWorker, waitFor, configEnv } from '../helpers/temporal';
import { freshAsOf, query, writeSource } from '../helpers/sources';
import { sqlString } from '../../src/data/duckdb';
import { mlpipe } from '../helpers/cli';
import { saveHistory } from '../helpers/histories';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createMonitoringActivities } from '../../activities/monitoring';
import { openActivityDeps } from '../../activities/open-deps';

/**
 * The monitoring pipeline against a model trained on 2001-01-08..21: two weeks that repeat the training
 * weeks' traffic trigger no retraining; a week with injected drift (distances doubled, only hub
 * departures) triggers exactly one retraining child however often monitoring runs; served predictions
 * whose labels land later are scored once they do.
 */
const HUBS = "('ATL', 'ORD', 'DFW', 'LAX', 'PHX', 'DEN', 'LAS', 'DTW', 'IAH', 'MSP')";
const config = testConfig();
const taskQueue = uniqueTaskQueue('monitoring');
const artifacts = artifactStoreFor(config);
const temporal = useWorker(config, taskQueue);
let store: MetadataStore;

async function ingest(batch: string, select: string): Promise<void> {
  const source = await writeSource(config, `${batch}.parquet`, select);
  await (
    await startIngestion(temporal.client, config, {
      spec: 'flights',
      batch,
      source,
      asOf: await freshAsOf(config, source),
      taskQueue,
    })
  ).result();
}
async function backfill(from: string, to: string): Promise<void> {
  await (
    await startBackfill(temporal.client, config, { spec: 'flights', from, to, concurrency: 4, taskQueue })
  ).result();
}
const monitor = async (from: string, to: string) =>
  (await startMonitoring(temporal.client, config, { spec: 'flights', from, to, taskQueue })).result();

/** Real flights before 01-22, then 01-08..21 again, 14 days later: two weeks with the training weeks' traffic. */
const repeatedWeeks = `SELECT * FROM flights WHERE date < TIMESTAMP '2001-01-22'
  UNION ALL SELECT * REPLACE (date + INTERVAL 14 DAY AS date) FROM flights WHERE date >= TIMESTAMP '2001-01-08' AND date < TIMESTAMP '2001-01-22'`;
/** Those, then real flights from 02-05 on, changed: hub departures only, distances doubled. */
const driftedFrom0205 = (until: string) => `${repeatedWeeks}
  UNION ALL SELECT * REPLACE (least(distance * 2, 6000) AS distance) FROM flights WHERE date >= TIMESTAMP '2001-02-05' AND date < TIMESTAMP '${until}' AND origin IN ${HUBS}`;

before(async () => {
  await temporal.ready();
  await ingest('upto-0121', `SELECT * FROM flights WHERE date < TIMESTAMP '2001-01-22'`);
  await backfill('2001-01-08', '2001-01-21');
  const training = await startTraining(temporal.client, config, {
    spec: 'flights',
    from: '2001-01-08',
    to: '2001-01-21',
    initiatedBy: 'ana',
    runId: 'monitored',
    taskQueue,
  });
  await waitFor(
    'approval',
    async () => (await training.query(progressQuery)).stage === 'AwaitingApproval',
    180_000,
    250,
  );
  await training.signal(approveSignal, { reviewer: 'ben' });
  await training.result();
  store = await openMetadataStore(config.databaseUrl);
});
after(async () => {
  await store?.close();
});

describe('monitoring', () => {
  test('weeks without drift: no retraining; the report is written and linked', async () => {
    // Two deliveries: the volume gate accepts at most 1.5x the usual rows in one step.
    await ingest('upto-0128-repeated', `SELECT * FROM (${repeatedWeeks}) WHERE date < TIMESTAMP '2001-01-29'`);
    await ingest('upto-0204-repeated', repeatedWeeks);
    await backfill('2001-01-22', '2001-02-04');
    const result = await monitor('2001-01-22', '2001-02-04');
    const stats = JSON.parse(
      fs.readFileSync(path.join(await artifacts.open(result.reportUri), 'report.json'), 'utf8'),
    ).drift.columns.map((c: { column: string; statistic: number }) => `${c.column} ${c.statistic.toFixed(4)}`);
    assert.equal(result.datasetDrift, false, `drifted: ${result.driftedFeatures.join(', ')} (${stats.join('; ')})`);
    assert.equal(result.retraining.started, false);
    const html = fs.readFileSync(path.join(await artifacts.open(result.reportUri), 'report.html'), 'utf8');
    assert.match(html, /flight-delay/);
    const report = JSON.parse(
      fs.readFileSync(path.join(await artifacts.open(result.reportUri), 'report.json'), 'utf8'),
    );
    assert.equal(report.drift.columns.length, 6, 'every feature is judged');
    assert.ok(report.predictions.batch > 50_000, `the week was batch-scored (${report.predictions.batch})`);
    assert.ok(report.performance.overall.auc > 0.5);
    // Per segment: every model segment, each judged on its labelled batch rows against its test-split AUC.
    const segments = report.performance.bySegment as {
      name: string;
      labelled: number;
      auc: number | null;
      referenceAuc: number | null;
    }[];
    assert.deepEqual(segments.map((s) => s.name).sort(), ['hub_origin', 'long_haul', 'other_origin', 'short_haul']);
    const labelled = (name: string) => segments.find((s) => s.name === name)!.labelled;
    assert.equal(report.predictions.serving, 0, 'nothing served in this window: every labelled row is a batch row');
    assert.equal(
      labelled('hub_origin') + labelled('other_origin'),
      report.predictions.labelled,
      'hub and other partition the labelled rows',
    );
    assert.equal(
      labelled('short_haul') + labelled('long_haul'),
      labelled('hub_origin') + labelled('other_origin'),
      'so do short and long haul',
    );
    for (const s of segments)
      assert.ok(
        s.auc !== null && s.auc > 0.5 && s.referenceAuc !== null,
        `${s.name}: AUC ${s.auc} against ${s.referenceAuc}`,
      );
  });

  test('a week with injected drift starts exactly one retraining child, however often monitoring runs', async () => {
    await ingest('upto-0211-drifted', driftedFrom0205('2001-02-12'));
    await backfill('2001-02-05', '2001-02-11');
    const results = [];
    for (let i = 0; i < 3; i++) {
      const handle = await startMonitoring(temporal.client, config, {
        spec: 'flights',
        from: '2001-02-05',
        to: '2001-02-11',
        taskQueue,
      });
      results.push(await handle.result());
      if (i === 0) await saveHistory('monitoring-retrain-started', handle);
    }
    for (const r of results) {
      assert.equal(r.datasetDrift, true);
      assert.ok(r.driftedFeatures.includes('log_distance'), `log_distance drifted (${r.driftedFeatures.join(', ')})`);
    }
    assert.deepEqual(
      results.map((r) => r.retraining.started),
      [true, false, false],
    );
    const child = temporal.client.workflow.getHandle('retrain/flight-delay/2001-02-05_2001-02-11');
    const description = await child.describe();
    assert.equal(description.type, 'trainingPipeline');
    assert.match(
      String((description.memo as { reason?: string } | undefined)?.reason),
      /dataset drift: .*log_distance/,
    );
    for (const r of results.slice(1))
      assert.match(r.retraining.why, /already retrained for this window|already in flight/);
    const alerts = await store.alerts.listRecent({ limit: 200 });
    const drift = alerts.find((a) => a.code === 'FeatureDrift' && a.subject === 'flight-delay/log_distance');
    assert.ok(drift, 'an alert names the drifted feature');
    assert.match(drift.message, /2001-02-05\.\.2001-02-11/);
    assert.ok(drift.observed && drift.expected, 'observed against threshold');
  });

  test('predictions served before their labels arrive are counted as awaiting, then scored once the labels land', async () => {
    const rows = await query<{ date: string; origin: string; destination: string; distance: number }>(
      // As the drifted delivery will carry them: hub departures, distances doubled.
      `SELECT strftime(date, '%Y-%m-%dT%H:%M:%S') AS date, origin, destination, least(distance * 2, 6000) AS distance FROM read_parquet(${sqlString(path.resolve('node_modules/vega-datasets/data/flights-3m.parquet'))})
       WHERE date >= TIMESTAMP '2001-02-12' AND date < TIMESTAMP '2001-02-13' AND origin IN ${HUBS} ORDER BY date, origin, destination LIMIT 40`,
    );
    const duck = await openDuckDb();
    const online = openOnlineStore(undefined, store.db);
    const server = await startServing(
      { logger: createLogger('warn'), store, online, duck, artifacts },
      { host: '127.0.0.1', port: 0 },
    );
    try {
      const response = await fetch(`${server.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'flight-delay', rows }),
      });
      assert.equal(response.status, 200, await response.clone().text());
    } finally {
      await server.close();
      duck.closeSync();
    }
    const before = await monitor('2001-02-12', '2001-02-12');
    const first = JSON.parse(fs.readFileSync(path.join(await artifacts.open(before.reportUri), 'report.json'), 'utf8'));
    assert.equal(first.predictions.serving, 40);
    assert.equal(first.predictions.awaitingLabels, 40, 'no label yet, and none due: counted as awaiting');
    assert.equal(first.predictions.labelled, 0);
    assert.equal(first.predictions.missingLabels, 0);

    await ingest('upto-0213', driftedFrom0205('2001-02-14'));
    const afterLabels = await monitor('2001-02-12', '2001-02-12');
    const second = JSON.parse(
      fs.readFileSync(path.join(await artifacts.open(afterLabels.reportUri), 'report.json'), 'utf8'),
    );
    assert.equal(second.predictions.labelled, 40, 'every served prediction found its label');
    assert.equal(second.predictions.awaitingLabels, 0);
  });

  test('a segment whose delays stop following the model raises SegmentDegraded; a segment without labelled rows is not judged', async () => {
    // The week after, hub departures as before, but late exactly when they leave before noon: the
    // opposite of what the model learned (delays build up through the day), so it ranks them backwards.
    const scrambled = `SELECT * REPLACE (least(distance * 2, 6000) AS distance, CASE WHEN hour(date) < 12 THEN 30 ELSE 0 END AS delay) FROM flights
      WHERE date >= TIMESTAMP '2001-02-14' AND date < TIMESTAMP '2001-02-21' AND origin IN ${HUBS}`;
    await ingest('upto-0220-scrambled', `${driftedFrom0205('2001-02-14')} UNION ALL ${scrambled}`);
    await backfill('2001-02-14', '2001-02-20');
    const handle = await startMonitoring(temporal.client, config, {
      spec: 'flights',
      from: '2001-02-14',
      to: '2001-02-20',
      taskQueue,
    });
    const result = await handle.result();
    await saveHistory('monitoring-segment-degraded', handle);
    const report = JSON.parse(
      fs.readFileSync(path.join(await artifacts.open(result.reportUri), 'report.json'), 'utf8'),
    );
    const segments = report.performance.bySegment as {
      name: string;
      labelled: number;
      auc: number | null;
      referenceAuc: number;
    }[];
    const hub = segments.find((g) => g.name === 'hub_origin')!;
    assert.ok(hub.auc !== null && hub.referenceAuc - hub.auc > 0.05, `hub AUC ${hub.auc} against ${hub.referenceAuc}`);
    assert.ok(result.degradedSegments?.includes('hub_origin'), `degraded: ${result.degradedSegments?.join(', ')}`);
    assert.equal(segments.find((g) => g.name === 'other_origin')!.labelled, 0, 'the week has hub departures only');
    assert.ok(!result.degradedSegments?.includes('other_origin'), 'a segment without labelled rows is not judged');
    const alerts = await store.alerts.listRecent({ limit: 200 });
    for (const name of result.degradedSegments!) {
      const alert = alerts.find(
        (a) =>
          a.code === 'SegmentDegraded' &&
          a.subject === `flight-delay/${name}` &&
          a.workflowId === `monitoring/flight-delay/2001-02-14_2001-02-20`,
      );
      assert.ok(alert, `an alert names segment ${name}`);
      assert.match(alert.message, /2001-02-14\.\.2001-02-20/);
      assert.ok(alert.observed && alert.expected, 'observed against the bound');
    }
    assert.ok(
      (report.decision.reasons as string[]).some((r) => /degradation of segment hub_origin/.test(r)),
      `retraining reasons: ${report.decision.reasons}`,
    );
  });

  test('a version promoted mid-run does not change what the run judges: performance and drift use the version that scored the window', async () => {
    const window = { spec: 'flights', from: '2001-01-22', to: '2001-02-04' };
    const v1 = (await store.models.get('flight-delay', 1))!;
    const opened = await openActivityDeps(config, createLogger('warn'));
    const activities = createMonitoringActivities(opened.deps);
    const env = new MockActivityEnvironment();
    // Each step as its own activity call, handed the URIs of what the steps before it published.
    const call = <T>(step: () => Promise<T>) => env.run(step) as Promise<T>;
    try {
      const collected = await call(() => activities.collectPredictions({ ...window, inputs: {} }));
      assert.equal(collected.version, 1);
      const scored = { served: collected.served, ...(collected.batch ? { batch: collected.batch } : {}) };
      assert.ok(collected.batch, 'the window was batch-scored');
      const labels = await call(() => activities.joinLabels({ ...window, inputs: scored }));
      // A run started before steps handed each other URIs passes the window alone: its steps share the
      // run's work area (keyed by the run).
      const legacyRun = new MockActivityEnvironment({
        workflowExecution: { workflowId: 'monitoring/flight-delay/legacy', runId: 'legacy-1' },
      });
      const legacy = <T>(step: () => Promise<T>) => legacyRun.run(step) as Promise<T>;
      await legacy(() => activities.collectPredictions(window));
      await legacy(() => activities.joinLabels(window));
      // Between Collecting and Performance another version is promoted, with other metrics and no monitoring baseline.
      const { version: v2 } = await store.models.register({
        modelName: 'flight-delay',
        registrationKey: 'promotion-race',
        artifactUri: v1.artifactUri,
        metrics: { test: { ...(v1.metrics.test as object), auc: 0.99 } },
        lineage: {},
        workflowId: 'race',
        runId: 'race',
      });
      await store.models.promote({
        dedupeKey: 'race-promote',
        modelName: 'flight-delay',
        version: v2,
        decision: 'promote',
        actor: 'test',
        reason: 'promoted mid-run',
        workflowId: 'race',
      });
      const performance = await call(() =>
        activities.computePerformance({
          ...window,
          inputs: { ...scored, labelled: labels.uri },
          version: collected.version,
        }),
      );
      assert.equal(
        performance.reference.auc,
        (v1.metrics.test as { auc: number }).auc,
        'judged against v1, which scored the window',
      );
      // Per day: every prediction counted, the labelled ones among them.
      const total = collected.batchRows + collected.servingRows;
      assert.equal(
        performance.byDay.reduce((n, d) => n + d.predictions, 0),
        total,
        'the days count every prediction of the window',
      );
      assert.equal(
        performance.byDay.reduce((n, d) => n + d.labelled, 0),
        performance.labelled,
      );
      const drift = await call(() =>
        activities.computeWindowDrift({ ...window, inputs: scored, version: collected.version }),
      );
      assert.ok(drift.computed, `drift against v1's baseline, which v2 lacks (${drift.computed ? '' : drift.reason})`);
      assert.equal(drift.reference, v1.lineage.monitoringBaseline);
      // The legacy run judges the same version, as it recorded it in its work area.
      assert.deepEqual(await legacy(() => activities.computePerformance(window)), performance);
      assert.deepEqual(await legacy(() => activities.computeWindowDrift(window)), drift);
    } finally {
      await store.models.promote({
        dedupeKey: 'race-restore',
        modelName: 'flight-delay',
        version: 1,
        decision: 'rollback',
        actor: 'test',
        reason: 'restore v1 after the race test',
        workflowId: 'race',
      });
      await opened.close();
    }
  });

  test('mlpipe status with no argument shows the health of every model', async () => {
    const r = await mlpipe(['status', '--json'], configEnv(config));
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as {
      model: string;
      production?: number;
      features?: { partition: string; fresh: boolean | null };
      lastMonitoring?: { workflowId: string; summary: string };
      alerts7d: number;
    }[];
    const flights = rows.find((x) => x.model === 'flight-delay');
    assert.ok(flights, 'the flights model has a row');
    assert.equal(flights.production, 1);
    assert.equal(flights.features?.partition, '2001-02-20');
    assert.match(flights.lastMonitoring?.workflowId ?? '', /^monitoring\/flight-delay\//);
    assert.ok(flights.alerts7d > 0, 'the drift alerts count');
    const text = await mlpipe(['status'], configEnv(config));
    assert.match(text.stdout, /flight-delay \(flights\)\s+v1/);
  });
});
