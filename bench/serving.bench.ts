/**
 * Prediction-server load: `POST /predict` (src/serving/server.ts startServing, in a child process
 * opened the way `mlpipe serve` opens it) under a loopback load generator, against two bare baselines.
 *
 * 1. Setup, without Temporal: a hand-made production model (the flights feature set's six inputs) is
 *    registered and promoted, and online features for 12 airports and their 132 routes are upserted
 *    into the SQLite metadata store of a fresh data directory (test/helpers/serving-load.ts, shared
 *    with the serving load test).
 * 2. Two server processes (bench/serving-server.ts): the prediction server, and bare Fastify with the
 *    same body limit answering POST /predict with a fixed small JSON after parsing the body. Both are
 *    warmed up.
 * 3. Per repetition, per scenario (1 and 10 rows per request): a bounded load (request count and
 *    time) at concurrency 16 on keep-alive connections, first on bare Fastify, then on the prediction
 *    server; then the bare scoring baseline: `scoreFeatureRows` (src/ml/scorer.ts) on the very feature
 *    rows the server answered with, request by request, in this process (no HTTP, no DuckDB, no online
 *    store, no prediction log), its scores checked against the served ones.
 * 4. Oversized bodies (> 256 KiB) sent while a short extra load runs: each must be answered 413.
 * 5. The servers are stopped (in-flight requests finish); the prediction log is counted by requestId:
 *    exactly one entry per served prediction, none for an oversized body.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ArtifactStore } from '../src/data/artifact-store';
import { openOnlineStore } from '../src/features/online-store-factory';
import { openScorer, scoreFeatureRows } from '../src/ml/scorer';
import { openMetadataStore } from '../src/store/database';
import {
  LOAD_ARTIFACT,
  LOAD_MODEL,
  checkPredictionLog,
  loadBody,
  percentile,
  prepareServingData,
  runLoad,
  sendOversized,
  type LoadResult,
  type LogCheck,
} from '../test/helpers/serving-load';
import { bareEnv, runChild, startChild, type StartedChild } from './child';
import type { SetupResult, SetupTask } from './scoring.bench';
import { ModelArtifactSchema } from '../src/ml/model-artifact';
import { flightsLgbmSpec } from '../src/specs/flights-lgbm';
import type { MetadataStore } from '../src/store/database';
import { processCpuSeconds } from './process-stats';
import {
  median,
  type Aim,
  type BenchContext,
  type Benchmark,
  type BenchmarkResult,
  type DetailTable,
  type Figure,
} from './report';
import { LISTENING_PREFIX, type ServerResult, type ServerTask } from './serving-server';
import { fixtureModelKey, publishFixture } from '../test/helpers/artifact-fixtures';

/** Issue #16's aims for one row per request: throughput and p99 within 3x of a bare Fastify answer. */
const AIMS: Record<string, Aim> = {
  '1 row/request: throughput': { on: 'ratio', op: '<=', limit: 3, text: 'within 3x bare Fastify' },
  '1 row/request: p99 latency': { on: 'ratio', op: '<=', limit: 3, text: 'within 3x bare Fastify' },
};
/** How the runs table names each server. */
const SERVER_NAMES = { predict: 'prediction server', trivial: 'bare Fastify', onnx: 'prediction server, ONNX model' };

const CONCURRENCY = 16;
const MiB = 2 ** 20;
/** Per scenario: request bound and time bound of one measured load run. */
const SCENARIOS = [
  { rows: 1, requests: 3000, timeLimitMs: 20_000 },
  { rows: 10, requests: 1500, timeLimitMs: 20_000 },
] as const;
/** The figures of the first scenario (one row a request: the serving path's fixed cost) the report's summary lists. */
const HEADLINE_FIGURES = ['throughput', 'p50 latency', 'p99 latency'];
const WARMUP_REQUESTS = 300;
const OVERSIZED = 40;
const SERVER_START_TIMEOUT_MS = 60_000;

/** A server process, once it listens; `stop` gives its CPU seconds and peak RSS. */
type ServerChild = StartedChild<ServerResult> & { url: string };

async function startServerChild(ctx: BenchContext, task: ServerTask): Promise<ServerChild> {
  const child = startChild<ServerResult>(ctx, 'serving-server.ts', task, bareEnv());
  return { ...child, url: await child.line(LISTENING_PREFIX, SERVER_START_TIMEOUT_MS) };
}

interface RunSample {
  rep: number;
  rows: number;
  /** predict: the built-in production model; onnx: the LightGBM ONNX version, asked for by number. */
  target: 'predict' | 'trivial' | 'onnx';
  prefix: string;
  load: Omit<LoadResult, 'served' | 'latenciesMs'>;
  requestsPerSecond: number;
  predictionsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Server process CPU during the run, per request, ms. */
  serverCpuMsPerRequest?: number;
}

interface BareSample {
  rep: number;
  rows: number;
  predictions: number;
  seconds: number;
  predictionsPerSecond: number;
  /** Largest |served score - bare score| over the run's predictions. */
  maxScoreDiff: number;
}

async function measure(
  target: ServerChild,
  kind: RunSample['target'],
  rep: number,
  scenario: (typeof SCENARIOS)[number],
  keep?: (i: number, rows: Record<string, number>[], scores: number[]) => void,
  version?: number,
): Promise<{ sample: RunSample; served: Map<string, number> }> {
  const prefix = `${kind}${rep}x${scenario.rows}`;
  const cpu0 = processCpuSeconds(target.pid);
  const load = await runLoad({
    url: `${target.url}/predict`,
    requests: scenario.requests,
    concurrency: CONCURRENCY,
    timeLimitMs: scenario.timeLimitMs,
    body: (i) => loadBody(prefix, i, scenario.rows, version),
    onAnswer: keep
      ? (i, body) =>
          keep(
            i,
            body.predictions!.map((p) => p.features),
            body.predictions!.map((p) => p.score),
          )
      : undefined,
  });
  const cpu1 = processCpuSeconds(target.pid);
  if (kind === 'trivial') {
    // Bare Fastify answers no predictions: count the rows it was sent, so both read as predictions/s.
    load.predictions = load.ok * scenario.rows;
  }
  const { served, latenciesMs, ...rest } = load;
  const seconds = load.wallMs / 1000;
  return {
    served,
    sample: {
      rep,
      rows: scenario.rows,
      target: kind,
      prefix,
      load: rest,
      requestsPerSecond: load.ok / seconds,
      predictionsPerSecond: load.predictions / seconds,
      p50Ms: percentile(latenciesMs, 50),
      p90Ms: percentile(latenciesMs, 90),
      p99Ms: percentile(latenciesMs, 99),
      maxMs: Math.max(...latenciesMs),
      serverCpuMsPerRequest:
        cpu0 !== undefined && cpu1 !== undefined && load.sent ? ((cpu1 - cpu0) * 1000) / load.sent : undefined,
    },
  };
}

/** scoreFeatureRows on the served feature rows, one call per request as the server makes it; repeated to at least 0.5 s. */
async function bareScoring(
  rep: number,
  rowsPerRequest: number,
  requests: { rows: Record<string, number>[]; scores: number[] }[],
): Promise<BareSample> {
  const scorer = await openScorer(LOAD_ARTIFACT, '');
  let maxScoreDiff = 0;
  for (const r of requests) {
    const scores = await scoreFeatureRows(scorer, r.rows);
    r.scores.forEach((s, j) => (maxScoreDiff = Math.max(maxScoreDiff, Math.abs(s - scores[j]!))));
  }
  let passes = 0;
  const t0 = performance.now();
  do {
    for (const r of requests) await scoreFeatureRows(scorer, r.rows);
    passes += 1;
  } while (performance.now() - t0 < 500);
  const seconds = (performance.now() - t0) / 1000;
  const predictions = passes * requests.reduce((s, r) => s + r.rows.length, 0);
  return { rep, rows: rowsPerRequest, predictions, seconds, predictionsPerSecond: predictions / seconds, maxScoreDiff };
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '');

/**
 * A LightGBM ONNX version of the same model (the bundled Python trainer on January-February flights,
 * 200 rounds, as the scoring benchmark's setup makes it), registered as version 2 beside the built-in
 * production version: requests ask for it by number. Without Python the scenario is skipped, saying why.
 */
async function registerOnnxVersion(
  ctx: BenchContext,
  store: MetadataStore,
  artifacts: ArtifactStore,
): Promise<{ version: number } | { skipped: string }> {
  let setup: SetupResult;
  try {
    const task: SetupTask = { kind: 'setup', dir: path.join(ctx.tmpDir, 'onnx') };
    setup = await runChild<SetupResult>(ctx, 'scoring.bench.ts', task, 20 * 60_000);
  } catch (error) {
    ctx.log(`ONNX scenario skipped: ${(error as Error).message.split('\n')[0]}`);
    return { skipped: (error as Error).message.split('\n')[0]! };
  }
  const key = 'load-onnx';

  const { features, threshold, trainedAt, trainingDataHash, featureSetVersion, specVersion, codeVersion } =
    LOAD_ARTIFACT;
  const artifact = ModelArtifactSchema.parse({
    kind: 'onnx',
    ...{ features, threshold, trainedAt, trainingDataHash, featureSetVersion, specVersion, codeVersion },
    onnx: 'model.onnx',
    native: [],
    hyperParameters: flightsLgbmSpec.model!.trainer!.hyperParameters!,
    trainer: { command: ['python', 'flight_delay_lgbm.py'], environment: {}, iterations: 200, metrics: {} },
    parity: { rows: 1, maxAbsDifference: 0 },
  });
  const artifactUri = await publishFixture(artifacts, fixtureModelKey(LOAD_MODEL, key), {
    'model.onnx': fs.readFileSync(setup.model),
    'model.json': JSON.stringify(artifact),
  });
  const { version } = await store.models.register({
    modelName: LOAD_MODEL,
    registrationKey: key,
    artifactUri,
    metrics: {},
    lineage: {},
    workflowId: `training/${key}`,
    runId: 'load',
  });
  ctx.log(`registered the LightGBM ONNX model as flight-delay v${version} (trained in ${setup.seconds.toFixed(0)} s)`);
  return { version };
}

/** The ONNX version against the built-in production model, 1 row/request, same server, same repetitions. */
function onnxFigures(runs: RunSample[], onnx: { version: number } | { skipped: string }): Figure[] {
  if (!('version' in onnx)) return [];
  const subject = runs.filter((r) => r.target === 'onnx');
  const builtIn = runs.filter((r) => r.target === 'predict' && r.rows === 1);
  const ratio = (f: (r: RunSample) => number) => subject.map((s, i) => f(s) / f(builtIn[i]!));
  const note = `LightGBM, 200 trees, asked for as version ${onnx.version}; the built-in logistic regression is the production version; same server, alternating`;
  return [
    {
      name: 'ONNX model, 1 row/request: throughput',
      value: median(subject.map((r) => r.requestsPerSecond)),
      unit: 'req/s',
      baseline: median(builtIn.map((r) => r.requestsPerSecond)),
      ratio: median(ratio((r) => 1 / r.requestsPerSecond)),
      ratioNote: 'built-in model requests/s / ONNX model requests/s, median of per-repetition ratios',
      samples: subject.map((r) => r.requestsPerSecond),
      note,
    },
    {
      name: 'ONNX model, 1 row/request: p99 latency',
      value: median(subject.map((r) => r.p99Ms)),
      unit: 'ms',
      baseline: median(builtIn.map((r) => r.p99Ms)),
      ratio: median(ratio((r) => r.p99Ms)),
      ratioNote: 'ONNX p99 / built-in p99, median of per-repetition ratios',
      samples: subject.map((r) => r.p99Ms),
      note,
    },
  ];
}

export const benchmark: Benchmark = {
  name: 'serving',
  description:
    `Prediction-server load: POST /predict of the prediction server (startServing, in a child process opened like \`mlpipe serve\`: SQLite metadata store and online store, DuckDB, log level warn) ` +
    `with a registered production model (6 inputs) and online features for 12 airports and 132 routes, driven from this process by a loopback load generator ` +
    `(node:http, keep-alive, concurrency ${CONCURRENCY}; per run at most ${SCENARIOS.map((s) => `${s.requests} requests of ${s.rows} row${s.rows > 1 ? 's' : ''}`).join(' or ')}, and at most ${SCENARIOS[0].timeLimitMs / 1000} s). ` +
    `Baselines, alternating with it: bare Fastify (same body limit, POST /predict parsing the same bodies and answering one fixed score per row, in a child process, same load) for requests/s and latency; ` +
    `\`scoreFeatureRows\` (src/ml/scorer.ts) called in-process on the very feature rows the server answered with, one call per request, for predictions/s (no HTTP, DuckDB, online store or prediction log). ` +
    `${OVERSIZED} oversized bodies (> 256 KiB) are sent during an extra load run and must each be answered 413; afterwards the prediction log is counted by requestId against every 200 answer.`,
  async run(ctx: BenchContext): Promise<BenchmarkResult> {
    const started = Date.now();
    let onnx: { version: number } | { skipped: string };
    const dataDir = path.join(ctx.tmpDir, 'data');
    fs.mkdirSync(dataDir, { recursive: true });
    const databaseUrl = `sqlite:${path.join(dataDir, 'metadata.sqlite')}`;
    {
      const store = await openMetadataStore(databaseUrl);
      const online = openOnlineStore(undefined, store.db);
      try {
        const rows = await prepareServingData(store, online, ArtifactStore.local(dataDir));
        ctx.log(`registered flight-delay v1 (production) and ${rows} online feature rows in ${dataDir}`);
        onnx = await registerOnnxVersion(ctx, store, ArtifactStore.local(dataDir));
      } finally {
        await online.close();
        await store.close();
      }
    }

    const predictServer = await startServerChild(ctx, { kind: 'predict', dataDir });
    let trivialServer: ServerChild | undefined;
    const runs: RunSample[] = [];
    const bare: BareSample[] = [];
    const served = new Map<string, number>();
    const prefixes: string[] = [];
    let oversized: (number | string)[] = [];
    let extra: LoadResult | undefined;
    let predictResult: ServerResult | undefined;
    let trivialResult: ServerResult | undefined;
    try {
      trivialServer = await startServerChild(ctx, { kind: 'trivial' });
      ctx.log(
        `prediction server at ${predictServer.url} (pid ${predictServer.pid}), bare Fastify at ${trivialServer.url} (pid ${trivialServer.pid})`,
      );

      for (const target of [predictServer, trivialServer]) {
        for (const rows of [1, 10]) {
          const warm = await runLoad({
            url: `${target.url}/predict`,
            requests: WARMUP_REQUESTS,
            concurrency: CONCURRENCY,
            timeLimitMs: 30_000,
            body: (i) => loadBody(`warm${rows}`, i, rows),
          });
          if (warm.errors) throw new Error(`warm-up against ${target.url} failed: ${JSON.stringify(warm.errorKinds)}`);
          if (target === predictServer) {
            warm.served.forEach((n, id) => served.set(id, n));
            prefixes.push(`warm${rows}`);
          }
        }
      }

      for (let rep = 1; rep <= ctx.reps; rep++) {
        for (const scenario of SCENARIOS) {
          const trivial = await measure(trivialServer, 'trivial', rep, scenario);
          runs.push(trivial.sample);
          const answers: { rows: Record<string, number>[]; scores: number[] }[] = [];
          const subject = await measure(
            predictServer,
            'predict',
            rep,
            scenario,
            (i, rows, scores) => (answers[i] = { rows, scores }),
          );
          runs.push(subject.sample);
          subject.served.forEach((n, id) => served.set(id, n));
          prefixes.push(subject.sample.prefix);
          bare.push(await bareScoring(rep, scenario.rows, answers.filter(Boolean)));
          if ('version' in onnx && scenario === SCENARIOS[0]) {
            const measured = await measure(predictServer, 'onnx', rep, scenario, undefined, onnx.version);
            runs.push(measured.sample);
            measured.served.forEach((n, id) => served.set(id, n));
            prefixes.push(measured.sample.prefix);
            ctx.log(
              `#${rep} ONNX v${onnx.version}, 1 row/request: ${fmt(measured.sample.requestsPerSecond)} req/s, p99 ${fmt(measured.sample.p99Ms, 2)} ms`,
            );
          }
          const s = subject.sample;
          ctx.log(
            `#${rep} ${scenario.rows} row(s)/request: ${s.load.ok}/${s.load.sent} ok in ${fmt(s.load.wallMs / 1000, 2)} s, ${fmt(s.requestsPerSecond)} req/s, ` +
              `p50 ${fmt(s.p50Ms, 2)} ms, p99 ${fmt(s.p99Ms, 2)} ms, errors ${s.load.errors}; bare Fastify ${fmt(trivial.sample.requestsPerSecond)} req/s; ` +
              `bare scoreFeatureRows ${fmt(bare.at(-1)!.predictionsPerSecond, 0)} predictions/s`,
          );
        }
      }

      // Oversized bodies while an extra load runs (not in the throughput figures; in the log check).
      const [load, statuses] = await Promise.all([
        runLoad({
          url: `${predictServer.url}/predict`,
          requests: 500,
          concurrency: CONCURRENCY,
          timeLimitMs: 20_000,
          body: (i) => loadBody('extra', i, 10),
        }),
        sendOversized(`${predictServer.url}/predict`, 'oversized', OVERSIZED),
      ]);
      extra = load;
      oversized = statuses;
      extra.served.forEach((n, id) => served.set(id, n));
      prefixes.push('extra');
      ctx.log(
        `oversized: ${statuses.filter((s) => s === 413).length}/${OVERSIZED} answered 413; extra load ${load.ok}/${load.sent} ok, errors ${JSON.stringify(load.errorKinds)}`,
      );
    } finally {
      trivialResult = await trivialServer?.stop();
      predictResult = await predictServer.stop();
    }

    // The prediction log, counted by requestId, once the server has stopped (in-flight requests logged).
    const checks: { prefix: string; check: LogCheck }[] = [];
    let oversizedLogged: number;
    {
      const store = await openMetadataStore(databaseUrl);
      try {
        for (const prefix of prefixes) {
          const ofPrefix = new Map([...served].filter(([id]) => id.startsWith(`${prefix}-`)));
          checks.push({ prefix, check: await checkPredictionLog(store, prefix, ofPrefix) });
        }
        oversizedLogged = (await checkPredictionLog(store, 'oversized', new Map())).logged;
      } finally {
        await store.close();
      }
    }
    const sum = (f: (c: LogCheck) => number) => checks.reduce((s, c) => s + f(c.check), 0);
    const lost = sum((c) => c.lost.length);
    const duplicated = sum((c) => c.duplicated.length);
    const unexpected = sum((c) => c.unexpected.length) + oversizedLogged;
    const loggedTotal = sum((c) => c.logged);
    const servedTotal = sum((c) => c.served);
    ctx.log(
      `prediction log: ${loggedTotal} entries for ${servedTotal} served predictions (${served.size} requests); lost ${lost}, duplicated ${duplicated}, unexpected ${unexpected}`,
    );

    // ---- figures
    const figures: Figure[] = [];
    for (const scenario of SCENARIOS) {
      const subject = runs.filter((r) => r.target === 'predict' && r.rows === scenario.rows);
      const trivial = runs.filter((r) => r.target === 'trivial' && r.rows === scenario.rows);
      const bareRuns = bare.filter((b) => b.rows === scenario.rows);
      const label = `${scenario.rows} row${scenario.rows > 1 ? 's' : ''}/request`;
      const paired = (f: (r: RunSample) => number, g: (r: RunSample) => number) =>
        subject.map((s, i) => f(s) / g(trivial[i]!));
      const fig = (
        name: string,
        unit: string,
        pick: (r: RunSample) => number,
        ratioNote: string,
        baselineSamples?: number[],
        ratioSamples?: number[],
        note?: string,
      ): Figure => ({
        name: `${label}: ${name}`,
        value: median(subject.map(pick)),
        unit,
        samples: subject.map(pick),
        ...(scenario === SCENARIOS[0] && HEADLINE_FIGURES.includes(name) ? { headline: true } : {}),
        ...(baselineSamples
          ? {
              baseline: median(baselineSamples),
              baselineSamples,
              ratio: median(ratioSamples!),
              ratioSamples,
              ratioNote,
            }
          : {}),
        ...(note ? { note } : {}),
        ...(AIMS[`${label}: ${name}`] ? { aim: AIMS[`${label}: ${name}`] } : {}),
      });
      figures.push(
        fig(
          'throughput',
          'req/s',
          (r) => r.requestsPerSecond,
          'bare Fastify requests/s / prediction server requests/s (how many times more a trivial route answers), median of per-repetition ratios',
          trivial.map((r) => r.requestsPerSecond),
          paired(
            (r) => 1 / r.requestsPerSecond,
            (r) => 1 / r.requestsPerSecond,
          ),
          `requests answered 200 over the run's wall time; sent per run: ${subject.map((r) => r.load.sent).join(', ')}`,
        ),
        fig(
          'predictions/s',
          'predictions/s',
          (r) => r.predictionsPerSecond,
          'bare scoreFeatureRows predictions/s / served predictions/s, median of per-repetition ratios',
          bareRuns.map((b) => b.predictionsPerSecond),
          subject.map((s, i) => bareRuns[i]!.predictionsPerSecond / s.predictionsPerSecond),
          `baseline: scoreFeatureRows in-process on the same feature rows, one call per request; its scores equal the served ones to ${Math.max(...bareRuns.map((b) => b.maxScoreDiff)).toExponential(1)}`,
        ),
        fig(
          'p50 latency',
          'ms',
          (r) => r.p50Ms,
          'prediction server p50 / bare Fastify p50',
          trivial.map((r) => r.p50Ms),
          paired(
            (r) => r.p50Ms,
            (r) => r.p50Ms,
          ),
        ),
        fig(
          'p99 latency',
          'ms',
          (r) => r.p99Ms,
          'prediction server p99 / bare Fastify p99',
          trivial.map((r) => r.p99Ms),
          paired(
            (r) => r.p99Ms,
            (r) => r.p99Ms,
          ),
        ),
        {
          name: `${label}: errors`,
          value: subject.reduce((s, r) => s + r.load.errors, 0),
          unit: '',
          samples: subject.map((r) => r.load.errors),
          aim: { on: 'value', op: '<=', limit: 0, text: 'none' },
          note: `non-200 answers and transport errors over all repetitions (${subject.reduce((s, r) => s + r.load.sent, 0)} requests)`,
        },
      );
      const cpu = subject.map((r) => r.serverCpuMsPerRequest).filter((v): v is number => v !== undefined);
      const cpuTrivial = trivial.map((r) => r.serverCpuMsPerRequest).filter((v): v is number => v !== undefined);
      if (cpu.length && cpuTrivial.length) {
        figures.push({
          name: `${label}: server CPU per request`,
          value: median(cpu),
          unit: 'ms',
          samples: cpu,
          baseline: median(cpuTrivial),
          baselineSamples: cpuTrivial,
          ratio: median(cpu.map((c, i) => c / cpuTrivial[i]!)),
          ratioNote: 'prediction server CPU / bare Fastify CPU per request (server process, user + system, /proc)',
        });
      }
    }
    figures.push(
      {
        name: 'oversized bodies not answered 413',
        value: oversized.filter((s) => s !== 413).length,
        unit: '',
        aim: { on: 'value', op: '<=', limit: 0, text: 'none' },
        note: `${OVERSIZED} bodies of ~300 KiB (limit 256 KiB) sent 4 at a time during an extra load of ${extra?.sent ?? 0} requests of 10 rows (${extra?.errors ?? 'n/a'} errors); statuses: ${summarize(oversized)}`,
      },
      {
        name: 'prediction log: lost or duplicated entries',
        value: lost + duplicated + unexpected,
        unit: '',
        aim: { on: 'value', op: '<=', limit: 0, text: 'exactly one per prediction' },
        note: `${loggedTotal} entries for ${servedTotal} predictions served in ${served.size} requests (warm-up, measured and extra runs), counted by requestId: ${lost} requests with entries missing, ${duplicated} with extra entries, ${unexpected} logged requestIds no 200 answer carried (oversized bodies: ${oversizedLogged} entries)`,
      },
    );
    figures.push(...onnxFigures(runs, onnx));
    if (predictResult) {
      figures.push({
        name: 'peak RSS (prediction server)',
        value: predictResult.peakRssBytes,
        unit: 'bytes',
        note: `whole run (${fmt(predictResult.cpuSeconds, 1)} CPU s); bare Fastify: ${(trivialResult ? trivialResult.peakRssBytes / MiB : NaN).toFixed(0)} MiB`,
      });
    }

    const details: DetailTable[] = [
      {
        title: 'Runs (in the order taken)',
        columns: [
          '#',
          'server',
          'rows/request',
          'sent',
          'ok',
          'errors',
          'wall s',
          'req/s',
          'predictions/s',
          'p50 ms',
          'p90 ms',
          'p99 ms',
          'max ms',
          'server CPU ms/request',
        ],
        rows: runs.map((r) => [
          r.rep,
          SERVER_NAMES[r.target],
          r.rows,
          r.load.sent,
          r.load.ok,
          r.load.errors,
          fmt(r.load.wallMs / 1000, 2),
          fmt(r.requestsPerSecond),
          fmt(r.predictionsPerSecond),
          fmt(r.p50Ms, 2),
          fmt(r.p90Ms, 2),
          fmt(r.p99Ms, 2),
          fmt(r.maxMs, 2),
          r.serverCpuMsPerRequest === undefined ? '' : fmt(r.serverCpuMsPerRequest, 2),
        ]),
        note: 'Bare Fastify predictions/s counts the rows it was sent (it scores none).',
      },
    ];
    return {
      name: 'serving',
      description: benchmark.description,
      seconds: (Date.now() - started) / 1000,
      figures,
      details,
      data: {
        concurrency: CONCURRENCY,
        scenarios: SCENARIOS,
        warmupRequests: WARMUP_REQUESTS,
        runs,
        bare,
        oversized,
        logChecks: checks.map((c) => ({
          prefix: c.prefix,
          logged: c.check.logged,
          served: c.check.served,
          lost: c.check.lost.length,
          duplicated: c.check.duplicated.length,
          unexpected: c.check.unexpected.length,
        })),
        servers: { predict: predictResult, trivial: trivialResult },
      },
    };
  },
};

function summarize(values: (number | string)[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${n} x ${k}`).join(', ');
}
