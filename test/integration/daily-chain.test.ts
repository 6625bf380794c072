import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { dailyChainWorkflowId, sensorScheduleId, type DailyChainResult, type SensorResult } from '../../src/api/daily';
import { ingestionWorkflowId } from '../../src/api/ingestion';
import { startDailyChain, startSensorLook } from '../../src/client/daily';
import { decideGate, gateOverrideView } from '../../src/client/gate-override';
import { approvalView, decide, startTraining } from '../../src/client/training';
import { artifactStoreFor } from '../../src/data/open-artifact-store';
import { sqlString } from '../../src/data/duckdb';
import { addDays, partitionRange } from '../../src/features/partition-dates';
import { openMetadataStore } from '../../src/store/database';
import { writeSource } from '../helpers/sources';
import { mlpipe } from '../helpers/cli';
import { saveHistory } from '../helpers/histories';
import { testConfig, uniqueTaskQueue, useWorker, waitFor } from '../helpers/temporal';

/**
 * A sensor over an incoming folder feeds the daily chains of flights-nightly: each new file is
 * ingested once (by content), each day's chain computes its features only once its night and the
 * nights its windows need are published, and a failure stops the chain with one alert.
 */
const SPEC = 'flights-nightly';
const PATTERN = 'incoming/flights-{day}*.parquet';
const config = testConfig();
const taskQueue = uniqueTaskQueue('daily-chain');
const temporal = useWorker(config, taskQueue);

/** Drops a night's file into the incoming folder, arrived the morning after its day (its as-of time). */
async function deliver(day: string, name = `flights-${day}.parquet`, select?: string): Promise<void> {
  const rel = await writeSource(
    config,
    `staged-${name}`,
    select ??
      `SELECT * FROM flights WHERE CAST(date AS DATE) = DATE ${sqlString(day)} ORDER BY date, origin, destination`,
  );
  const target = path.join(config.dataDir, 'incoming', name);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.renameSync(path.join(config.dataDir, rel), target); // whole, as a delivery must arrive
  const arrived = new Date(`${addDays(day, 1)}T06:00:00Z`);
  fs.utimesSync(target, arrived, arrived);
}

async function look() {
  const handle = await startSensorLook(temporal.client, config, { spec: SPEC, pattern: PATTERN, taskQueue });
  return { handle, result: handle.result() };
}

const chainResult = (day: string) =>
  temporal.client.workflow.getHandle(dailyChainWorkflowId(SPEC, day)).result() as Promise<DailyChainResult>;

/** Every alert of this file's store (a few dozen: the limit only guards against a runaway). */
async function allAlerts() {
  const store = await openMetadataStore(config.databaseUrl);
  try {
    return await store.alerts.listRecent({ limit: 10_000 });
  } finally {
    await store.close();
  }
}

const alertsOf = async (workflowId: string) => (await allAlerts()).filter((a) => a.workflowId === workflowId);

const FIRST_WEEK = partitionRange('2001-01-01', '2001-01-08');

before(async () => {
  await temporal.ready();
  for (const day of FIRST_WEEK) await deliver(day);
});

describe('daily chains fed by a sensor', () => {
  test('each new night is chained once, in day order; features start once a window of nights is published', async () => {
    const { handle, result } = await look();
    assert.deepEqual(
      (await result).delivered.map((d) => d.day),
      FIRST_WEEK,
    );
    await saveHistory('sensor-look-first-week', handle);
    await saveHistory(
      'daily-chain-features',
      temporal.client.workflow.getHandle(dailyChainWorkflowId(SPEC, '2001-01-08')),
    );
    const first = await chainResult('2001-01-01');
    assert.equal(first.ingestion.rowsAccepted > 10_000, true);
    assert.deepEqual(first.features, {
      status: 'notYet',
      reason: 'the feed began on 2001-01-01: 0 of the 7 days before 2001-01-01 a window needs',
    });
    const eighth = await chainResult('2001-01-08');
    assert.equal(eighth.features.status, 'computed');
    assert.deepEqual(eighth.monitoring, {
      status: 'notYet',
      reason: 'no production version of flight-delay-nightly yet',
    });
    assert.deepEqual(eighth.features.status === 'computed' ? eighth.features.partitions.map((p) => p.partition) : [], [
      '2001-01-08',
    ]);

    // A second look finds nothing new, and a copy of a delivered file under another name is the same delivery.
    fs.copyFileSync(
      path.join(config.dataDir, 'incoming', 'flights-2001-01-03.parquet'),
      path.join(config.dataDir, 'incoming', 'flights-2001-01-03-resent.parquet'),
    );
    assert.deepEqual((await (await look()).result).delivered, []);
  });

  test('a night out of order: the later chain stops naming the missing night; when it arrives, its chain computes both', async () => {
    await deliver('2001-01-10');
    const early = await look();
    const failure = await early.result.then(
      () => assert.fail('the look should stop at the chain that cannot compute its features'),
      (e: unknown) => e,
    );
    assert.ok(failure instanceof WorkflowFailedError);
    assert.match(
      String(failure.cause?.message),
      /Chaining failed: Planning failed: features of 2001-01-10 need the nights before it: 2001-01-09 not published/,
    );
    const [alert] = await alertsOf(dailyChainWorkflowId(SPEC, '2001-01-10'));
    assert.equal(alert?.code, 'FeatureInputRejected', 'the chain that stopped raised the alert');

    await deliver('2001-01-09');
    assert.deepEqual(
      (await (await look()).result).delivered.map((d) => d.day),
      ['2001-01-09'],
      'the night out of order is chained; the stopped night is not ingested again',
    );
    const ninth = await chainResult('2001-01-09');
    await saveHistory(
      'daily-chain-catch-up',
      temporal.client.workflow.getHandle(dailyChainWorkflowId(SPEC, '2001-01-09')),
    );
    assert.deepEqual(
      ninth.features.status === 'computed' ? ninth.features.partitions.map((p) => p.partition) : ninth.features,
      ['2001-01-09', '2001-01-10'],
    );
  });

  test('a night its gates stop ends its chain before features, with the ingestion run as the one alert', async () => {
    await deliver('2001-01-11', undefined, `SELECT * FROM flights WHERE false`);
    const { result } = await look();
    const failure = await result.then(
      () => assert.fail('the empty night should stop'),
      (e: unknown) => e,
    );
    assert.ok(failure instanceof WorkflowFailedError);
    assert.match(String(failure.cause?.message), /Chaining failed: Ingesting failed: QualityGates failed: .*freshness/);
    const chain = temporal.client.workflow.getHandle(dailyChainWorkflowId(SPEC, '2001-01-11'));
    const steps = (await chain.query<{ steps: { name: string }[] }>('progress')).steps.map((s) => s.name);
    assert.deepEqual(steps, ['Ingesting'], 'nothing ran after the failed step');
    assert.equal((await alertsOf(ingestionWorkflowId(SPEC, '2001-01-11'))).length, 1);
    assert.equal((await alertsOf(dailyChainWorkflowId(SPEC, '2001-01-11'))).length, 0);
  });

  test('a Temporal Schedule runs the looks: the corrected night and the next one are chained in order', async () => {
    // The stopped empty night, delivered again with its rows (new bytes: a re-delivery), and the next night.
    await deliver('2001-01-11', 'flights-2001-01-11-corrected.parquet');
    await deliver('2001-01-12');
    const env = { MLPIPE_DATA_DIR: config.dataDir, MLPIPE_DATABASE_URL: '', TEMPORAL_TASK_QUEUE: taskQueue };
    const created = await mlpipe(
      ['schedule', 'create', '--kind', 'sensor', '--spec', SPEC, '--pattern', PATTERN, '--cron', '0 3 * * *'],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    const schedule = temporal.client.schedule.getHandle(sensorScheduleId(SPEC));
    try {
      assert.equal((await mlpipe(['schedule', 'trigger', sensorScheduleId(SPEC)], env)).code, 0);
      await waitFor(
        'the triggered look',
        async () => (await schedule.describe()).info.recentActions.length > 0,
        30_000,
        200,
      );
      const started = (await schedule.describe()).info.recentActions[0]!.action.workflow;
      const result = (await temporal.client.workflow
        .getHandle(started.workflowId, started.firstExecutionRunId)
        .result()) as SensorResult;
      assert.deepEqual(
        result.delivered.map((d) => d.day),
        ['2001-01-11', '2001-01-12'],
      );
      const eleventh = await chainResult('2001-01-11');
      assert.equal(eleventh.ingestion.rowsAccepted > 10_000, true, 'the corrected night replaced the empty one');
    } finally {
      await schedule.delete();
    }
  });

  test("a look whose night's chain is still running gives the file back, with an alert, instead of losing it", async () => {
    // A Monday that lost half of ORD's departures: its chain holds at the airport gate for reviewers.
    const halfOrd = `SELECT * FROM flights WHERE CAST(date AS DATE) = DATE '2001-01-15' AND (origin <> 'ORD' OR hash(date, destination) % 2 = 0)`;
    const held = await startDailyChain(temporal.client, config, {
      spec: SPEC,
      day: '2001-01-15',
      source: await writeSource(config, 'held-2001-01-15.parquet', halfOrd),
      asOf: '2001-01-16T06:00:00Z',
      taskQueue,
    });
    const ingestion = ingestionWorkflowId(SPEC, '2001-01-15');
    await waitFor(
      'the night to ask its reviewers',
      async () => {
        try {
          return (await gateOverrideView(temporal.client, ingestion)).status === 'waiting';
        } catch {
          return false; // not started yet
        }
      },
      30_000,
      100,
    );

    await deliver('2001-01-15');
    const { result } = await look();
    const failure = await result.then(
      () => assert.fail('the look cannot chain a day whose chain runs'),
      (e: unknown) => e,
    );
    assert.ok(failure instanceof WorkflowFailedError);
    assert.match(
      String(failure.cause?.message),
      /Chaining failed: the chain of 2001-01-15 could not start .*: incoming\/flights-2001-01-15\.parquet waits for the next look/,
    );
    const store = await openMetadataStore(config.databaseUrl);
    try {
      const offered = await store.deliveries.claimedFiles(SPEC, ['incoming/flights-2001-01-15.parquet']);
      assert.equal(offered.size, 0, 'the claim was given back: the next look offers the file again');
    } finally {
      await store.close();
    }
    const sensorAlerts = (await allAlerts()).filter((a) => a.code === 'DailyChainNotStarted');
    assert.equal(sensorAlerts.length, 1);

    await decideGate(temporal.client, ingestion, { decision: 'abort', reviewer: 'ana', reason: 'test over' });
    await assert.rejects(held.result());
  });

  test("once a production model exists, a night's chain monitors it on the day whose labels the night brought", async () => {
    // Train on the computed nights (2001-01-08..12), approved by a second person: production v1.
    const training = await startTraining(temporal.client, config, {
      spec: SPEC,
      from: '2001-01-08',
      to: '2001-01-12',
      initiatedBy: 'ana',
      runId: 'nightly-1',
      taskQueue,
    });
    await waitFor(
      'the candidate to wait for a reviewer',
      async () => (await approvalView(temporal.client, training.workflowId)).status === 'waiting',
      120_000,
      250,
    );
    await decide(temporal.client, training.workflowId, {
      decision: 'approve',
      reviewer: 'ben',
      comment: 'first nightly model',
    });
    await training.result();

    // With the Monday the last test gave back, still in the folder: three nights in order.
    await deliver('2001-01-13');
    await deliver('2001-01-14');
    assert.deepEqual(
      (await (await look()).result).delivered.map((d) => d.day),
      ['2001-01-13', '2001-01-14', '2001-01-15'],
    );
    const chain = await chainResult('2001-01-13');
    assert.equal(chain.monitoring.status, 'ran', JSON.stringify(chain.monitoring));
    assert.equal(chain.monitoring.status === 'ran' && chain.monitoring.from, '2001-01-12');
    const report = chain.monitoring.status === 'ran' ? chain.monitoring.result.reportUri : '';
    assert.match(report, /^artifact:monitoring\/flight-delay-nightly\/2001-01-12_2001-01-12\//);
    assert.ok(fs.existsSync(path.join(await artifactStoreFor(config).open(report), 'report.html')), 'the report');
  });
});
