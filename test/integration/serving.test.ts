import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { DuckDBInstance } from '@duckdb/node-api';
import type { Config } from '../../src/config';
import { ArtifactStore } from '../../src/data/artifact-store';
import { artifactStoreFor } from '../../src/data/open-artifact-store';
import { openDuckDb } from '../../src/data/duckdb';
import type { OnlineStore } from '../../src/features/online-store';
import { openOnlineStore } from '../../src/features/online-store-factory';
import { createLogger } from '../../src/logger';
import { ModelArtifactSchema, type ModelArtifact } from '../../src/ml/model-artifact';
import type { ServingDeps } from '../../src/serving/deps';
import { startServing, type RunningServer } from '../../src/serving/server';
import { openMetadataStore, type MetadataStore } from '../../src/store/database';
import { mlpipe } from '../helpers/cli';
import { REPO_ROOT, testConfig, waitFor } from '../helpers/temporal';
import { fixtureModelKey, publishFixture } from '../helpers/artifact-fixtures';

const MODEL = 'flight-delay';
const FEATURES = [
  'origin_delay_share_7d',
  'dest_delay_share_7d',
  'route_flights_7d',
  'hour_of_day',
  'day_of_week',
  'log_distance',
];
const MEANS = [0.2, 0.2, 100, 12, 4, 6.5];
const STDS = [0.1, 0.1, 50, 6, 2, 1];
const PRODUCTION = { weights: [1.5, 1.0, -0.3, 0.4, 0.1, 0.2], intercept: -1.0 };
const STAGING = { weights: [0.5, 0.5, 0.1, 0.1, 0.0, 0.3], intercept: -0.5 };

function artifact(model: { weights: number[]; intercept: number }, featureSetVersion = '1'): ModelArtifact {
  return ModelArtifactSchema.parse({
    kind: 'logistic-regression',
    features: FEATURES,
    standardizer: { means: MEANS, stds: STDS },
    ...model,
    threshold: 0.3,
    trainedAt: '2001-03-01T00:00:00Z',
    hyperParameters: { l2: 1e-4, maxIterations: 50, tolerance: 1e-10 },
    trainingDataHash: 'sha256:test',
    featureSetVersion,
    specVersion: '1.0.0',
    codeVersion: 'test',
  });
}

/** The score worked out by hand: standardize, weigh, add the intercept, logistic. */
function expectedScore(model: { weights: number[]; intercept: number }, x: number[]): number {
  const eta = x.reduce((sum, v, j) => sum + model.weights[j]! * ((v - MEANS[j]!) / STDS[j]!), model.intercept);
  return 1 / (1 + Math.exp(-eta));
}

interface Answer {
  status: number;
  body: Record<string, any>;
}

const row = (overrides: Record<string, unknown> = {}) => ({
  date: '2001-03-01T08:30:00',
  origin: 'ORD',
  destination: 'LAX',
  distance: 1745,
  ...overrides,
});

describe('prediction server', () => {
  let config: Config;
  let store: MetadataStore;
  let online: OnlineStore;
  let duck: DuckDBInstance;
  let artifacts: ArtifactStore;
  let server: RunningServer;
  let deps: ServingDeps;

  async function registerVersion(key: string, body: ModelArtifact): Promise<number> {
    const artifactUri = await publishFixture(artifacts, fixtureModelKey(MODEL, key), {
      'model.json': JSON.stringify(body),
    });
    const { version } = await store.models.register({
      modelName: MODEL,
      registrationKey: key,
      artifactUri,
      metrics: {},
      lineage: {},
      workflowId: `training/${key}`,
      runId: 'r',
    });
    return version;
  }

  const promote = (version: number, key: string) =>
    store.models.promote({
      dedupeKey: key,
      modelName: MODEL,
      version,
      decision: 'promote',
      actor: 'test',
      reason: 'test',
      workflowId: 'training/test',
    });

  async function post(body: unknown, headers: Record<string, string> = {}, url = server.url): Promise<Answer> {
    const response = await fetch(`${url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  }

  before(async () => {
    config = testConfig();
    store = await openMetadataStore(config.databaseUrl);
    online = openOnlineStore(config.MLPIPE_ONLINE_STORE_URL, store.db);
    duck = await openDuckDb();
    artifacts = artifactStoreFor(config);
    // Silent: several tests provoke server errors on purpose, and their log lines would read as failures.
    deps = { logger: createLogger('silent'), store, online, duck, artifacts };

    assert.equal(await registerVersion('v1', artifact(PRODUCTION)), 1);
    await promote(1, 'p1');
    assert.equal(await registerVersion('v2', artifact(STAGING)), 2);
    await store.models.setStage(MODEL, 2, 'staging');

    // Snapshots valid from the start of 2001-03-01, except DEN's, three and a half days old at 08:30.
    const fresh = '2001-03-01T00:00:00Z';
    await online.upsert('flight_delay', '1', 'origin', [
      { entityKey: 'ORD', validFrom: fresh, values: { origin_delay_share_7d: 0.25 } },
      { entityKey: 'EWR', validFrom: fresh, values: { origin_delay_share_7d: 0.6 } },
    ]);
    await online.upsert('flight_delay', '1', 'destination', [
      { entityKey: 'LAX', validFrom: fresh, values: { dest_delay_share_7d: 0.1 } },
      { entityKey: 'DEN', validFrom: '2001-02-26T00:00:00Z', values: { dest_delay_share_7d: 0.3 } },
    ]);
    // Above the feature's range [0, 2000]: the transform clamps it, as training does.
    await online.upsert('flight_delay', '1', 'route', [
      { entityKey: 'ORD-LAX', validFrom: fresh, values: { route_flights_7d: 2500 } },
    ]);

    server = await startServing(deps, { host: '127.0.0.1', port: 0 });
  });

  after(async () => {
    await server?.close();
    await online?.close();
    await store?.close();
    duck?.closeSync();
  });

  test('a row is scored as the logistic of its transformed features, and logged before the answer', async () => {
    const before = await store.predictions.count({ modelName: MODEL });
    const answer = await post({ model: MODEL, requestId: 'req-ord-lax', rows: [row()] });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    // 2001-03-01 is a Thursday (ISO day 4); the route count is clamped to its range's top, 2000.
    const x = [0.25, 0.1, 2000, 8, 4, Math.log(1745)];
    const score = expectedScore(PRODUCTION, x);
    assert.ok(score < 0.3, `the test row should be negative, got ${score}`);
    assert.deepEqual(answer.body, {
      requestId: 'req-ord-lax',
      model: MODEL,
      version: 1,
      stage: 'production',
      predictions: [
        {
          score: answer.body.predictions[0].score,
          positive: false,
          features: Object.fromEntries(FEATURES.map((f, j) => [f, x[j]])),
          featureSources: {
            origin_delay_share_7d: 'fresh',
            dest_delay_share_7d: 'fresh',
            route_flights_7d: 'fresh',
            hour_of_day: 'event',
            day_of_week: 'event',
            log_distance: 'event',
          },
        },
      ],
    });
    assert.ok(
      Math.abs(answer.body.predictions[0].score - score) < 1e-12,
      `served ${answer.body.predictions[0].score}, expected ${score}`,
    );

    const logged = await store.predictions.list({
      modelName: MODEL,
      from: '2001-03-01T08:30:00Z',
      to: '2001-03-01T08:30:01Z',
    });
    assert.equal(await store.predictions.count({ modelName: MODEL }), before + 1);
    assert.deepEqual(
      logged.map((e) => ({ ...e, id: 0, createdAt: '' })),
      [
        {
          id: 0,
          createdAt: '',
          requestId: 'req-ord-lax',
          modelName: MODEL,
          modelVersion: 1,
          stage: 'production',
          featureSet: 'flight_delay',
          featureSetVersion: '1',
          eventTime: '2001-03-01T08:30:00.000Z',
          entityKeys: { origin: 'ORD', destination: 'LAX', route: 'ORD-LAX' },
          request: { date: '2001-03-01T08:30:00', origin: 'ORD', destination: 'LAX', distance: 1745 },
          features: Object.fromEntries(FEATURES.map((f, j) => [f, x[j]])),
          score: answer.body.predictions[0].score,
          source: 'serving',
        },
      ],
    );
  });

  test('fresh, stale-within-tolerance and default entity features; a positive row; several rows keep their order', async () => {
    const answer = await post({
      model: MODEL,
      rows: [
        row({ origin: 'EWR', date: '2001-03-01T20:05:00' }),
        // An unknown origin and route get their documented defaults; DEN's snapshot is 80.5 h old.
        // The offset is accepted and, as in ingestion, the wall-clock time counts (hour 8).
        row({ origin: 'QQQ', destination: 'DEN', distance: 862, date: '2001-03-01T08:30:00+05:00' }),
      ],
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const [ewr, qqq] = answer.body.predictions;

    const xEwr = [0.6, 0.1, 0, 20, 4, Math.log(1745)];
    assert.ok(Math.abs(ewr.score - expectedScore(PRODUCTION, xEwr)) < 1e-12);
    assert.equal(ewr.positive, true);
    assert.deepEqual(Object.values(ewr.features), xEwr);
    assert.equal(ewr.featureSources.origin_delay_share_7d, 'fresh');
    assert.equal(ewr.featureSources.route_flights_7d, 'default');

    const xQqq = [0.2, 0.3, 0, 8, 4, Math.log(862)];
    assert.ok(Math.abs(qqq.score - expectedScore(PRODUCTION, xQqq)) < 1e-12);
    assert.equal(qqq.positive, qqq.score >= 0.3);
    assert.deepEqual(Object.values(qqq.features), xQqq);
    assert.deepEqual(qqq.featureSources, {
      origin_delay_share_7d: 'default',
      dest_delay_share_7d: 'stale-within-tolerance',
      route_flights_7d: 'default',
      hour_of_day: 'event',
      day_of_week: 'event',
      log_distance: 'event',
    });
    const logged = await store.predictions.list({
      modelName: MODEL,
      from: '2001-03-01T20:05:00Z',
      to: '2001-03-01T20:05:01Z',
    });
    assert.deepEqual(
      logged.map((e) => [e.entityKeys.route, e.requestId]),
      [['EWR-LAX', answer.body.requestId]],
    );
    assert.match(answer.body.requestId, /^[0-9a-f-]{36}$/, 'a request without an id gets a generated one');
  });

  test('stage and version pick the registry version; a promotion or rollback applies at the next request', async () => {
    const x = [0.25, 0.1, 2000, 8, 4, Math.log(1745)];
    const staging = await post({ model: MODEL, stage: 'staging', rows: [row()] });
    assert.equal(staging.status, 200, JSON.stringify(staging.body));
    assert.deepEqual([staging.body.version, staging.body.stage], [2, 'staging']);
    assert.ok(Math.abs(staging.body.predictions[0].score - expectedScore(STAGING, x)) < 1e-12);
    assert.notEqual(staging.body.predictions[0].score, expectedScore(PRODUCTION, x));

    const pinned = await post({ model: MODEL, stage: 'staging', version: 1, rows: [row()] });
    assert.deepEqual(
      [pinned.status, pinned.body.version, pinned.body.stage],
      [200, 1, 'production'],
      'a version overrides the stage',
    );
    assert.deepEqual(await post({ model: MODEL, version: 99, rows: [row()] }), {
      status: 404,
      body: { error: `${MODEL} has no version 99` },
    });

    await promote(2, 'p2');
    const promoted = await post({ model: MODEL, rows: [row()] });
    assert.deepEqual([promoted.body.version, promoted.body.stage], [2, 'production']);
    assert.deepEqual(await post({ model: MODEL, stage: 'staging', rows: [row()] }), {
      status: 404,
      body: { error: `no staging version of ${MODEL}` },
    });

    await promote(1, 'rollback-1');
    await store.models.setStage(MODEL, 2, 'staging');
    assert.equal((await post({ model: MODEL, rows: [row()] })).body.version, 1);

    await store.models.setStage(MODEL, 1, 'archived');
    try {
      assert.deepEqual(await post({ model: MODEL, rows: [row()] }), {
        status: 404,
        body: { error: `no production version of ${MODEL}` },
      });
    } finally {
      await promote(1, 'restore-1');
    }
  });

  test('x-mlpipe-source: skew-check marks the logged rows; another value is refused', async () => {
    const answer = await post(
      {
        model: MODEL,
        requestId: 'skew-1',
        rows: [row({ date: '2001-03-02T06:00:00' }), row({ date: '2001-03-02T07:00:00' })],
      },
      { 'x-mlpipe-source': 'skew-check' },
    );
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const window = { modelName: MODEL, from: '2001-03-02T00:00:00Z', to: '2001-03-03T00:00:00Z' };
    assert.equal(await store.predictions.count({ ...window, source: 'skew-check' }), 2);
    assert.equal(await store.predictions.count({ ...window, source: 'serving' }), 0);
    assert.deepEqual(
      (await store.predictions.list(window)).map((e) => e.requestId),
      ['skew-1', 'skew-1'],
    );

    const refused = await post({ model: MODEL, rows: [row()] }, { 'x-mlpipe-source': 'batch' });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error, /x-mlpipe-source/);
  });

  test('invalid requests are refused with 400 naming the problem, and nothing is logged', async () => {
    const before = await store.predictions.count({ modelName: MODEL });
    const cases: [string, unknown, RegExp][] = [
      [
        'missing column',
        { model: MODEL, rows: [{ date: '2001-03-01T08:30:00', origin: 'ORD', destination: 'LAX' }] },
        /rows\.0\.distance/,
      ],
      ['unknown column', { model: MODEL, rows: [row({ delay: 20 })] }, /rows\.0.*delay/],
      ['wrong type', { model: MODEL, rows: [row(), row({ distance: '1745' })] }, /rows\.1\.distance/],
      ['decimal integer', { model: MODEL, rows: [row({ distance: 17.5 })] }, /rows\.0\.distance/],
      ['out of contract range', { model: MODEL, rows: [row({ distance: 0 })] }, /rows\.0\.distance/],
      ['too long', { model: MODEL, rows: [row({ origin: 'ORDXX' })] }, /rows\.0\.origin/],
      ['blank', { model: MODEL, rows: [row({ destination: ' ' })] }, /rows\.0\.destination: must not be blank/],
      ['bad timestamp', { model: MODEL, rows: [row({ date: '2001-02-30T08:00:00' })] }, /rows\.0\.date/],
      ['not a timestamp', { model: MODEL, rows: [row({ date: 'tomorrow morning' })] }, /rows\.0\.date/],
      ['null', { model: MODEL, rows: [row({ origin: null })] }, /rows\.0\.origin/],
      ['no rows', { model: MODEL, rows: [] }, /rows/],
      ['too many rows', { model: MODEL, rows: Array.from({ length: 101 }, () => row()) }, /rows/],
      ['unknown stage', { model: MODEL, stage: 'canary', rows: [row()] }, /stage/],
      ['bad version', { model: MODEL, version: 0, rows: [row()] }, /version/],
      ['unknown field', { model: MODEL, rows: [row()], explain: true }, /explain/],
      ['no model', { rows: [row()] }, /model/],
    ];
    for (const [what, body, pattern] of cases) {
      const answer = await post(body);
      assert.equal(answer.status, 400, `${what}: ${JSON.stringify(answer.body)}`);
      assert.match(answer.body.error, /^invalid request: /, what);
      assert.match(answer.body.error, pattern, what);
    }
    const malformed = await fetch(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model": ',
    });
    assert.equal(malformed.status, 400);
    assert.equal(await store.predictions.count({ modelName: MODEL }), before);
  });

  test('404 for an unknown model, 413 for an oversized body', async () => {
    const unknown = await post({ model: 'no-such-model', rows: [row()] });
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error, /unknown model no-such-model \(served: .*flight-delay/);

    const huge = await post({ model: MODEL, rows: [row({ origin: 'x'.repeat(300 * 1024) })] });
    assert.equal(huge.status, 413);
  });

  test('a version trained on another feature-set version is not served', async () => {
    const version = await registerVersion('v-fs2', artifact(PRODUCTION, '2'));
    const answer = await post({ model: MODEL, version, rows: [row()] });
    assert.deepEqual(answer, { status: 500, body: { error: 'internal error (see the server log)' } });
  });

  test('GET /metrics counts the requests answered so far by route and status, with their latency histogram', async () => {
    const scrape = async () => (await fetch(`${server.url}/metrics`)).text();
    const count = (text: string, labels: string) =>
      Number(new RegExp(`^mlpipe_serving_requests_total\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    const before = await scrape();
    assert.equal((await post({ model: MODEL, rows: [row()] })).status, 200);
    assert.equal((await post({ model: MODEL, rows: [] })).status, 400);
    const after = await scrape();
    assert.equal(count(after, 'route="/predict",status="200"'), count(before, 'route="/predict",status="200"') + 1);
    assert.equal(count(after, 'route="/predict",status="400"'), count(before, 'route="/predict",status="400"') + 1);
    const buckets = [
      ...after.matchAll(
        /^mlpipe_serving_request_duration_seconds_bucket\{route="\/predict",status="200",le="([^"]+)"\} (\d+)$/gm,
      ),
    ];
    assert.ok(buckets.length > 2, 'a histogram of /predict latencies');
    const counts = buckets.map((b) => Number(b[2]));
    assert.deepEqual(
      [...counts].sort((a, b) => a - b),
      counts,
      'cumulative buckets',
    );
    assert.equal(counts.at(-1), count(after, 'route="/predict",status="200"'), 'the +Inf bucket holds every request');
  });

  test('GET /healthz answers ok after querying the metadata store', async () => {
    const response = await fetch(`${server.url}/healthz`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ok', database: 'ok' });
  });

  test('an unavailable prediction log means 503 and no prediction; a closed store fails /healthz', async () => {
    const broken = await openMetadataStore(testConfig().databaseUrl);
    const brokenServer = await startServing({ ...deps, store: broken }, { host: '127.0.0.1', port: 0 });
    try {
      await registerAndPromoteIn(broken);
      await sql`drop table prediction_log`.execute(broken.db);
      const answer = await post({ model: MODEL, rows: [row()] }, {}, brokenServer.url);
      assert.equal(answer.status, 503);
      assert.equal(answer.body.predictions, undefined);
      assert.match(answer.body.error, /prediction log is unavailable/);

      await broken.close();
      const health = await fetch(`${brokenServer.url}/healthz`);
      assert.equal(health.status, 503);
      assert.deepEqual(await health.json(), { status: 'unavailable', database: 'unavailable' });
    } finally {
      await brokenServer.close();
    }

    /** The same production model in the other store, so the request gets as far as logging. */
    async function registerAndPromoteIn(other: MetadataStore): Promise<void> {
      const { version } = await other.models.register({
        modelName: MODEL,
        registrationKey: 'v1',
        artifactUri: artifacts.uri(fixtureModelKey(MODEL, 'v1')),
        metrics: {},
        lineage: {},
        workflowId: 'training/v1',
        runId: 'r',
      });
      await other.models.promote({
        dedupeKey: 'p1',
        modelName: MODEL,
        version,
        decision: 'promote',
        actor: 'test',
        reason: 'test',
        workflowId: 'training/test',
      });
    }
  });
});

describe('mlpipe serve', () => {
  test('a port that is not a number exits 2', async () => {
    const result = await mlpipe(['serve', '--port', 'notanumber'], { MLPIPE_DATA_DIR: testConfig().dataDir });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /mlpipe serve: port: must be a whole number/);
  });

  test('serves /healthz on the printed URL and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0'], {
      cwd: REPO_ROOT,
      env: { ...process.env, MLPIPE_DATA_DIR: testConfig().dataDir, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await waitFor(
        'the printed URL',
        () => /listening at http:\/\/\S+/.test(stdout) || child.exitCode !== null,
        60_000,
      );
      const url = /listening at (http:\/\/\S+)/.exec(stdout)?.[1];
      assert.ok(url, `no URL printed; stdout: ${stdout}; stderr: ${stderr}`);
      const health = await fetch(`${url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok', database: 'ok' });
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
