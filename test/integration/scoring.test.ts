import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { startScoring } from '../../src/client/scoring';
import { progressQuery } from '../../src/api/progress';
import { artifactStoreFor } from '../../src/data/open-artifact-store';
import { openDuckDb, queryRows, sqlFileList, withConnection } from '../../src/data/duckdb';
import { partitionRange } from '../../src/features/partition-dates';
import { writeMatrixFile } from '../../src/ml/matrix-file';
import { ModelArtifactSchema } from '../../src/ml/model-artifact';
import { loadTrainingSpec } from '../../src/training/training-spec';
import { openMetadataStore, type MetadataStore } from '../../src/store/database';
import { spawnWorker, testConfig, uniqueTaskQueue, useWorker, waitFor, type WorkerProcess } from '../helpers/temporal';
import { publishFlightFeatures } from '../helpers/training-data';
import { fixtureModelKey, publishFixture } from '../helpers/artifact-fixtures';

/**
 * Batch scoring of a week of real flight features: every row scored or kept as a dead letter with the
 * reason (rows in = scored + dead letters), the predictions published with lineage, and a shift from
 * the version's baseline stopping the run with nothing published.
 */
const FROM = '2001-01-08';
const TO = '2001-01-14';
const MODEL = 'flight-delay';
const FEATURES = loadTrainingSpec('flights').features;

const config = testConfig();
const taskQueue = uniqueTaskQueue('scoring');
const temporal = useWorker(config, taskQueue);
const artifacts = artifactStoreFor(config);
let store: MetadataStore;

/**
 * A logistic regression whose standardizer divides hour_of_day by 1e-320: any hour but 12 (its mean)
 * overflows to infinity, and times its weight 0 gives NaN, a score that is not a probability.
 */
function overflowingModel() {
  return ModelArtifactSchema.parse({
    kind: 'logistic-regression',
    features: FEATURES,
    standardizer: { means: [0.2, 0.2, 100, 12, 4, 6.5], stds: [0.1, 0.1, 50, 1e-320, 2, 1] },
    weights: [1.5, 1.0, -0.3, 0, 0.1, 0.2],
    intercept: -1,
    threshold: 0.3,
    trainedAt: '2001-03-01T00:00:00Z',
    hyperParameters: { l2: 1e-4, maxIterations: 50, tolerance: 1e-10 },
    trainingDataHash: 'sha256:test',
    featureSetVersion: '1',
    specVersion: '1.0.0',
    codeVersion: 'test',
  });
}

async function registerVersion(key: string, lineage: Record<string, unknown> = {}): Promise<number> {
  const artifactUri = await publishFixture(artifacts, fixtureModelKey(MODEL, key), {
    'model.json': JSON.stringify(overflowingModel()),
  });
  const { version } = await store.models.register({
    modelName: MODEL,
    registrationKey: key,
    artifactUri,
    metrics: {},
    lineage,
    workflowId: `training/${key}`,
    runId: 'r',
  });
  return version;
}

/** Rows of the window's feature partitions, counted straight from the files: all and with hour_of_day 12. */
async function featureRows(): Promise<{ all: number; noon: number }> {
  const files: string[] = [];
  for (const d of partitionRange(FROM, TO))
    files.push(
      ...(await artifacts.parquetFiles(
        await artifacts.openKey({ kind: 'features', name: 'flight_delay', version: '1', partition: d }),
      )),
    );
  const duck = await openDuckDb();
  try {
    const [r] = await withConnection(duck, (conn) =>
      queryRows<{ all: number; noon: number }>(
        conn,
        `SELECT count(*)::INTEGER AS all, count(*) FILTER (WHERE hour_of_day = 12)::INTEGER AS noon FROM read_parquet(${sqlFileList(files)})`,
      ),
    );
    return r!;
  } finally {
    duck.closeSync();
  }
}

before(async () => {
  await publishFlightFeatures(await temporal.ready(), config, taskQueue, FROM, TO);
  store = await openMetadataStore(config.databaseUrl);
});
const spawned: WorkerProcess[] = [];
after(async () => {
  for (const w of spawned) w.child.kill('SIGKILL');
  await store?.close();
});

describe('batch scoring', () => {
  test('every row is scored or a dead letter with its reason; predictions publish with lineage', async () => {
    const version = await registerVersion('overflowing');
    const handle = await startScoring(temporal.client, config, {
      spec: 'flights',
      from: FROM,
      to: TO,
      version,
      taskQueue,
    });
    assert.equal(handle.workflowId, `score/${MODEL}/${FROM}_${TO}`);
    const result = await handle.result();
    const expected = await featureRows();
    assert.equal(result.rows, expected.all, 'rows in: every row of the feature partitions');
    assert.equal(result.scored + result.deadLetters, result.rows, 'rows in = scored + dead letters');
    assert.equal(result.scored, expected.noon, 'only the rows whose score is a probability are published');
    assert.equal(result.distribution.verdict, 'skipped', 'a version never promoted has no baseline');

    const predictions = await artifacts.open(result.predictionsUri);
    const deadLetters = await artifacts.open(result.deadLettersUri);
    const duck = await openDuckDb();
    try {
      await withConnection(duck, async (conn) => {
        const [p] = await queryRows<{ n: number; bad: number; columns: string }>(
          conn,
          `SELECT count(*)::INTEGER AS n, count(*) FILTER (WHERE NOT (score BETWEEN 0 AND 1))::INTEGER AS bad, (SELECT string_agg(column_name, ',') FROM (DESCRIBE SELECT * FROM read_parquet('${predictions}/*.parquet'))) AS columns FROM read_parquet('${predictions}/*.parquet')`,
        );
        assert.deepEqual(p, { n: result.scored, bad: 0, columns: 'date,origin,destination,score,positive' });
        const reasons = await queryRows<{ reason: string; n: number }>(
          conn,
          `SELECT __reason AS reason, count(*)::INTEGER AS n FROM read_parquet('${deadLetters}/*.parquet') GROUP BY 1`,
        );
        assert.deepEqual(reasons, [
          { reason: 'the model returned NaN for this row, not a probability', n: result.deadLetters },
        ]);
      });
    } finally {
      duck.closeSync();
    }
    const lineage = await store.lineage.get(result.predictionsUri);
    assert.equal(lineage?.kind, 'predictions');
    assert.deepEqual(
      [lineage?.rowsRead, lineage?.rowsAccepted, lineage?.rowsRejected],
      [result.rows, result.scored, result.deadLetters],
    );
    assert.equal(lineage?.outputHash, result.outputHash);
    assert.equal((lineage?.details as { modelVersion: number }).modelVersion, version);
    assert.match(String((lineage?.details as { inputHash: string }).inputHash), /^[0-9a-f]{64}$/);
  });

  test('a mean score off the version baseline beyond the bound stops the run; nothing is published', async () => {
    // A baseline whose scores all sat at 0.95: today's mean is far from it.
    const baselineKey = { kind: 'models' as const, name: MODEL, version: 'shifted', partition: 'baseline' };
    const rows = 100;
    await writeMatrixFile(path.join(artifacts.stagingDir(baselineKey), 'baseline.bin'), {
      features: ['prediction'],
      segments: [],
      rows,
      columns: [new Float64Array(rows).fill(0.95)],
      labels: new Uint8Array(rows),
      days: [FROM],
      dayIndex: new Uint16Array(rows),
      segmentMasks: [],
    });
    await artifacts.publish(baselineKey);
    const version = await registerVersion('shifted', { monitoringBaseline: artifacts.uri(baselineKey) });
    const handle = await startScoring(temporal.client, config, {
      spec: 'flights',
      from: FROM,
      to: FROM,
      version,
      taskQueue,
    });
    const error = await handle.result().catch((e: unknown) => e);
    assert.ok(error instanceof WorkflowFailedError);
    const cause = error.cause as { type?: string; message: string };
    assert.equal(cause.type, 'PredictionValidationFailed');
    assert.match(
      cause.message,
      /^Validating failed: predictions of flight-delay v\d+ shifted: mean score 0\.\d+ over \d+ rows, expected within 0\.1 of the baseline's 0\.9500/,
    );
    const key = { kind: 'predictions' as const, name: MODEL, version: String(version), partition: FROM };
    assert.equal(await artifacts.isPublished(key), false, 'nothing was published');
  });

  test('a worker SIGKILLed in the middle of scoring: the retry skips the days already scored, and the output equals an undisturbed run', async () => {
    const undisturbed = await (
      await startScoring(temporal.client, config, {
        spec: 'flights',
        from: FROM,
        to: TO,
        version: await registerVersion('undisturbed'),
        taskQueue,
      })
    ).result();

    const killedQueue = uniqueTaskQueue('scoring-killed');
    // The pause after each day gives the kill a window between two of them.
    const first = spawnWorker(config, killedQueue, { MLPIPE_SCORE_DAY_PAUSE_MS: '400' });
    spawned.push(first);
    const version = await registerVersion('killed');
    const handle = await startScoring(temporal.client, config, {
      spec: 'flights',
      from: FROM,
      to: TO,
      version,
      taskQueue: killedQueue,
    });
    const scoredDays = (w: WorkerProcess) =>
      w.logs.filter((l) => /^scored day /.test(String(l.msg))).map((l) => String(l.day));
    await waitFor('two scored days', () => scoredDays(first).length >= 2, 120_000, 20);
    first.child.kill('SIGKILL');
    await first.exited;
    const before = scoredDays(first);
    const second = spawnWorker(config, killedQueue);
    spawned.push(second);
    const result = await handle.result();
    // Queried while a worker still polls the queue: a query needs one.
    const steps = (await handle.query(progressQuery)).steps;
    second.child.kill('SIGTERM');
    await second.exited;

    const after = scoredDays(second);
    assert.deepEqual(
      after.filter((d) => before.includes(d)),
      [],
      `no day scored twice (before ${before}, after ${after})`,
    );
    assert.ok(before.length + after.length <= partitionRange(FROM, TO).length);
    const resumed = Number(
      /(\d+) day\(s\) done before a retry/.exec(steps.find((s) => s.name === 'Scoring')?.outcome ?? '')?.[1],
    );
    assert.ok(
      resumed >= before.length,
      `the retry skipped ${resumed} day(s), at least the ${before.length} the killed worker reported`,
    );
    assert.deepEqual(
      [result.rows, result.scored, result.deadLetters, result.outputHash],
      [undisturbed.rows, undisturbed.scored, undisturbed.deadLetters, undisturbed.outputHash],
      'the same rows, scores and files as the undisturbed run',
    );
  });
});
