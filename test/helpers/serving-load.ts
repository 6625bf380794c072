/**
 * Load on the prediction server, shared by the serving load test (test/integration/serving-load.test.ts)
 * and the serving benchmark (bench/serving.bench.ts): a hand-made production model and online
 * features written straight into a metadata store (no Temporal, no training run), request bodies over
 * a small set of airports, a bounded loopback load generator (node:http, keep-alive), oversized
 * bodies, and the prediction log counted by requestId against what was served.
 */
import http from 'node:http';
import type { ArtifactStore } from '../../src/data/artifact-store';
import type { OnlineStore } from '../../src/features/online-store';
import { ModelArtifactSchema, type ModelArtifact } from '../../src/ml/model-artifact';
import { BODY_LIMIT_BYTES } from '../../src/serving/app';
import type { MetadataStore } from '../../src/store/database';
import { fixtureModelKey, publishFixture } from './artifact-fixtures';

export const LOAD_MODEL = 'flight-delay';
const FEATURES = [
  'origin_delay_share_7d',
  'dest_delay_share_7d',
  'route_flights_7d',
  'hour_of_day',
  'day_of_week',
  'log_distance',
];

/** A production model of the flights spec's feature set (version 1), as the serving test builds one. */
export const LOAD_ARTIFACT: ModelArtifact = ModelArtifactSchema.parse({
  kind: 'logistic-regression',
  features: FEATURES,
  standardizer: { means: [0.2, 0.2, 100, 12, 4, 6.5], stds: [0.1, 0.1, 50, 6, 2, 1] },
  weights: [1.5, 1.0, -0.3, 0.4, 0.1, 0.2],
  intercept: -1.0,
  threshold: 0.3,
  trainedAt: '2001-03-01T00:00:00Z',
  hyperParameters: { l2: 1e-4, maxIterations: 50, tolerance: 1e-10 },
  trainingDataHash: 'sha256:load',
  featureSetVersion: '1',
  specVersion: '1.0.0',
  codeVersion: 'load',
});

/** Twelve airports: every ordered pair is a route with online features. */
export const LOAD_AIRPORTS = ['ORD', 'LAX', 'ATL', 'DFW', 'DEN', 'SFO', 'EWR', 'BOS', 'SEA', 'PHX', 'IAH', 'MSP'];

/**
 * Registers LOAD_ARTIFACT as version 1 of LOAD_MODEL, promotes it to production, and upserts online
 * features (valid from the start of 2001-03-01) for every airport as origin and destination and for
 * every route between them. Returns the number of online rows written.
 */
export async function prepareServingData(
  store: MetadataStore,
  online: OnlineStore,
  artifacts: ArtifactStore,
): Promise<number> {
  const artifactUri = await publishFixture(artifacts, fixtureModelKey(LOAD_MODEL, 'load-v1'), {
    'model.json': JSON.stringify(LOAD_ARTIFACT),
  });
  const { version } = await store.models.register({
    modelName: LOAD_MODEL,
    registrationKey: 'load-v1',
    artifactUri,
    metrics: {},
    lineage: {},
    workflowId: 'training/load-v1',
    runId: 'load',
  });
  await store.models.promote({
    dedupeKey: 'load-p1',
    modelName: LOAD_MODEL,
    version,
    decision: 'promote',
    actor: 'load',
    reason: 'load test',
    workflowId: 'training/load',
  });

  const validFrom = '2001-03-01T00:00:00Z';
  const share = (i: number) => Number((0.1 + (i % 7) * 0.05).toFixed(2));
  const origins = LOAD_AIRPORTS.map((a, i) => ({
    entityKey: a,
    validFrom,
    values: { origin_delay_share_7d: share(i) },
  }));
  const destinations = LOAD_AIRPORTS.map((a, i) => ({
    entityKey: a,
    validFrom,
    values: { dest_delay_share_7d: share(i + 3) },
  }));
  const routes = LOAD_AIRPORTS.flatMap((o, i) =>
    LOAD_AIRPORTS.filter((d) => d !== o).map((d, j) => ({
      entityKey: `${o}-${d}`,
      validFrom,
      values: { route_flights_7d: 20 + ((i * 12 + j) % 180) },
    })),
  );
  await online.upsert('flight_delay', '1', 'origin', origins);
  await online.upsert('flight_delay', '1', 'destination', destinations);
  await online.upsert('flight_delay', '1', 'route', routes);
  return origins.length + destinations.length + routes.length;
}

/** Request row `n`: a flight between two of the airports on 2001-03-01, deterministic in n. */
export function loadRow(n: number): { date: string; origin: string; destination: string; distance: number } {
  const k = LOAD_AIRPORTS.length;
  const origin = LOAD_AIRPORTS[n % k]!;
  const destination = LOAD_AIRPORTS[(n + 1 + (Math.floor(n / k) % (k - 1))) % k]!;
  const hour = 6 + (n % 17);
  const minute = (n * 7) % 60;
  return {
    date: `2001-03-01T${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:00`,
    origin,
    destination,
    distance: 200 + ((n * 37) % 2500),
  };
}

/** The JSON body of request `i` with `rows` rows and requestId `<prefix>-<i>`; for a registry `version` when given. */
export function loadBody(prefix: string, i: number, rows: number, version?: number): string {
  return JSON.stringify({
    model: LOAD_MODEL,
    ...(version !== undefined ? { version } : {}),
    requestId: `${prefix}-${i}`,
    rows: Array.from({ length: rows }, (_, r) => loadRow(i * rows + r)),
  });
}

/** A body over the server's limit (BODY_LIMIT_BYTES): one row whose origin is ~300 KiB long. */
export function oversizedBody(prefix: string, i: number): string {
  const body = JSON.stringify({
    model: LOAD_MODEL,
    requestId: `${prefix}-${i}`,
    rows: [{ ...loadRow(i), origin: 'X'.repeat(300 * 1024) }],
  });
  if (Buffer.byteLength(body) <= BODY_LIMIT_BYTES) throw new Error('the oversized body is not over the limit');
  return body;
}

export interface HttpAnswer {
  status: number;
  text: string;
}

/** POST `body` as JSON to `url` through `agent`. */
export function postJson(agent: http.Agent, url: string, body: string, timeoutMs = 30_000): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(body);
    const request = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': data.length },
        timeout: timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(data);
  });
}

export interface LoadOptions {
  /** POST target, e.g. http://127.0.0.1:8080/predict. */
  url: string;
  /** Upper bound on requests sent. */
  requests: number;
  /** Requests in flight at once (one keep-alive connection each). */
  concurrency: number;
  /** Upper bound on the run's duration: no request is started after it. */
  timeLimitMs: number;
  /** The body of request i (0-based). */
  body(i: number): string;
  /** Called with every 200 answer's parsed body, e.g. to keep its features. */
  onAnswer?(i: number, body: PredictAnswer): void;
}

export interface PredictAnswer {
  requestId?: string;
  predictions?: { score: number; features: Record<string, number> }[];
}

export interface LoadResult {
  sent: number;
  /** Answers with status 200. */
  ok: number;
  /** Everything else: non-200 statuses, transport errors, 200s without the predictions asked for. */
  errors: number;
  /** Error counts by kind ("503", "ECONNRESET", "200 without 10 predictions", ...). */
  errorKinds: Record<string, number>;
  /** Predictions in the 200 answers. */
  predictions: number;
  /** Each 200 answer's requestId with its number of predictions. */
  served: Map<string, number>;
  /** Per request, in completion order, ms (all requests, errors included). */
  latenciesMs: number[];
  wallMs: number;
}

/**
 * Drives `url` with up to `requests` requests, `concurrency` at a time, each on a keep-alive
 * connection, until all are answered or `timeLimitMs` has passed (requests in flight then finish).
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const result: LoadResult = {
    sent: 0,
    ok: 0,
    errors: 0,
    errorKinds: {},
    predictions: 0,
    served: new Map(),
    latenciesMs: [],
    wallMs: 0,
  };
  const fail = (kind: string) => {
    result.errors += 1;
    result.errorKinds[kind] = (result.errorKinds[kind] ?? 0) + 1;
  };
  const t0 = performance.now();
  const deadline = t0 + options.timeLimitMs;
  let next = 0;
  const loop = async () => {
    while (next < options.requests && performance.now() < deadline) {
      const i = next++;
      const body = options.body(i);
      const expectedRows = (JSON.parse(body) as { rows: unknown[] }).rows.length;
      result.sent += 1;
      const started = performance.now();
      try {
        const answer = await postJson(agent, options.url, body);
        result.latenciesMs.push(performance.now() - started);
        if (answer.status !== 200) {
          fail(String(answer.status));
          continue;
        }
        const parsed = JSON.parse(answer.text) as PredictAnswer;
        const n = parsed.predictions?.length ?? 0;
        if (n !== expectedRows || !parsed.requestId) {
          fail(`200 without ${expectedRows} predictions`);
          continue;
        }
        result.ok += 1;
        result.predictions += n;
        result.served.set(parsed.requestId, (result.served.get(parsed.requestId) ?? 0) + n);
        options.onAnswer?.(i, parsed);
      } catch (error) {
        result.latenciesMs.push(performance.now() - started);
        fail((error as NodeJS.ErrnoException).code ?? (error as Error).message);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, loop));
  } finally {
    agent.destroy();
  }
  result.wallMs = performance.now() - t0;
  return result;
}

/**
 * Sends `count` oversized bodies (`concurrency` at a time, each on a connection of its own, since the
 * server may close it after refusing the body) and returns the statuses, in order.
 */
export async function sendOversized(
  url: string,
  prefix: string,
  count: number,
  concurrency = 4,
): Promise<(number | string)[]> {
  const agent = new http.Agent({ keepAlive: false });
  const statuses: (number | string)[] = new Array(count);
  let next = 0;
  const loop = async () => {
    while (next < count) {
      const i = next++;
      try {
        statuses[i] = (await postJson(agent, url, oversizedBody(prefix, i))).status;
      } catch (error) {
        statuses[i] = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, loop));
  } finally {
    agent.destroy();
  }
  return statuses;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export interface LogCheck {
  /** Prediction-log entries of LOAD_MODEL whose requestId starts with the prefix. */
  logged: number;
  /** Predictions the 200 answers carried. */
  served: number;
  /** Served requestIds with fewer log entries than predictions (none at all counts too). */
  lost: string[];
  /** RequestIds with more log entries than predictions served under them. */
  duplicated: string[];
  /** Logged requestIds no 200 answer carried (e.g. an oversized or failed request that was logged). */
  unexpected: string[];
}

/**
 * Counts the prediction log of LOAD_MODEL by requestId (those starting with `prefix`) and compares each
 * count with the predictions served under that id: exactly one entry per served prediction.
 */
export async function checkPredictionLog(
  store: MetadataStore,
  prefix: string,
  served: Map<string, number>,
): Promise<LogCheck> {
  const rows = await store.db
    .selectFrom('prediction_log')
    .select((eb) => ['request_id', eb.fn.countAll().as('n')])
    .where('model_name', '=', LOAD_MODEL)
    .where('request_id', 'like', `${prefix}-%`)
    .groupBy('request_id')
    .execute();
  const logged = new Map(rows.map((r) => [r.request_id, Number(r.n)]));
  const check: LogCheck = { logged: 0, served: 0, lost: [], duplicated: [], unexpected: [] };
  for (const n of logged.values()) check.logged += n;
  for (const [id, n] of served) {
    check.served += n;
    const got = logged.get(id) ?? 0;
    if (got < n) check.lost.push(id);
    if (got > n) check.duplicated.push(id);
  }
  for (const id of logged.keys()) if (!served.has(id)) check.unexpected.push(id);
  return check;
}
