/**
 * Prediction-server load: `POST /predict` of the prediction server (bench/serving-server.ts, a child
 * process opened the way `mlpipe serve` opens it) under a loopback load generator, against bare Fastify
 * (a child process too) and bare `scoreFeatureRows` in this process (the description says how).
 * The model and online features are written straight into a fresh metadata store, without Temporal
 * (test/helpers/serving-load.ts, shared with the serving load test); with Python, a LightGBM ONNX
 * version is registered beside the production one. After the measured runs, oversized bodies must each
 * be answered 413, and once the servers have stopped (in-flight requests finish) the prediction log is
 * counted by requestId: exactly one entry per served prediction, none for an oversized body.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ArtifactStore } from '../src/data/artifact-store';
import { openOnlineStore } from '../src/features/online-store-factory';
import { ModelArtifactSchema } from '../src/ml/model-artifact';
import { openScorer, scoreFeatureRows } from '../src/ml/scorer';
import { flightsLgbmSpec } from '../src/specs/flights-lgbm';
import { openMetadataStore, type MetadataStore } from '../src/store/database';
import { fixtureModelKey, publishFixture } from '../test/helpers/artifact-fixtures';
import {
  LOAD_ARTIFACT,
  LOAD_MODEL,
  checkPredictionLog,
  loadBody,
  percentile,
  prepareServingData,
  runLoad,
  sendOversized,
  type LoadOptions,
  type LoadResult,
  type PredictAnswer,
} from '../test/helpers/serving-load';
import { bareEnv, runChild, startChild } from './child';
import { processCpuSeconds } from './process-stats';
import { paired, type Aim, type BenchContext, type Benchmark, type Figure } from './report';
import type { SetupResult, SetupTask } from './scoring.bench';
import { columnTable } from './table';
import { LISTENING_PREFIX, type ServerResult, type ServerTask } from './serving-server';

/** Issue #16's aims for one row per request: throughput and p99 within 3x of a bare Fastify answer. */
const AIMS: Record<string, Aim> = {
  '1 row/request: throughput': { on: 'ratio', op: '<=', limit: 3, text: 'within 3x bare Fastify' },
  '1 row/request: p99 latency': { on: 'ratio', op: '<=', limit: 3, text: 'within 3x bare Fastify' },
};
/** The figures of the first scenario (one row a request: the serving path's fixed cost) the report's summary lists. */
const HEADLINE_FIGURES = ['throughput', 'p50 latency', 'p99 latency'];
/** How the runs table names each target: predict is the built-in production model, onnx the LightGBM version asked for by number. */
const TARGETS = { predict: 'prediction server', trivial: 'bare Fastify', onnx: 'prediction server, ONNX model' };
type Target = keyof typeof TARGETS;

const CONCURRENCY = 16;
/** Per scenario: request bound and time bound of one measured load run. */
const SCENARIOS = [
  { rows: 1, requests: 3000, timeLimitMs: 20_000 },
  { rows: 10, requests: 1500, timeLimitMs: 20_000 },
] as const;
type Scenario = (typeof SCENARIOS)[number];
const WARMUP_REQUESTS = 300;
const OVERSIZED = 40;

interface RunSample {
  rep: number;
  rows: number;
  target: Target;
  load: Omit<LoadResult, 'served' | 'latenciesMs'>;
  requestsPerSecond: number;
  predictionsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Server process CPU during the run, per request, ms (NaN where /proc cannot be read). */
  serverCpuMsPerRequest: number;
}

interface BareSample {
  rep: number;
  rows: number;
  predictionsPerSecond: number;
  /** Largest |served score - bare score| over the run's predictions. */
  maxScoreDiff: number;
}

type Answer = { rows: Record<string, number>[]; scores: number[] };

/** scoreFeatureRows on the served feature rows, one call per request as the server makes it; repeated to at least 0.5 s. */
async function bareScoring(rep: number, rows: number, answers: Answer[]): Promise<BareSample> {
  const scorer = await openScorer(LOAD_ARTIFACT, '');
  let maxScoreDiff = 0;
  for (const a of answers) {
    const scores = await scoreFeatureRows(scorer, a.rows);
    a.scores.forEach((s, j) => (maxScoreDiff = Math.max(maxScoreDiff, Math.abs(s - scores[j]!))));
  }
  let passes = 0;
  const t0 = performance.now();
  do {
    for (const a of answers) await scoreFeatureRows(scorer, a.rows);
    passes += 1;
  } while (performance.now() - t0 < 500);
  const seconds = (performance.now() - t0) / 1000;
  const predictions = passes * answers.reduce((s, a) => s + a.rows.length, 0);
  return { rep, rows, predictionsPerSecond: predictions / seconds, maxScoreDiff };
}

/**
 * A LightGBM ONNX version of the same model (the bundled Python trainer on January-February flights,
 * 200 rounds, as the scoring benchmark's setup makes it), registered as version 2 beside the built-in
 * production version: requests ask for it by number. Without Python the scenario is skipped, saying why.
 */
async function registerOnnxVersion(ctx: BenchContext, store: MetadataStore, artifacts: ArtifactStore) {
  let setup: SetupResult;
  try {
    const task: SetupTask = { kind: 'setup', dir: path.join(ctx.tmpDir, 'onnx') };
    setup = await runChild<SetupResult>(ctx, 'scoring.bench.ts', task, 20 * 60_000);
  } catch (error) {
    ctx.log(`ONNX scenario skipped: ${(error as Error).message.split('\n')[0]}`);
    return undefined;
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
  return version;
}

/**
 * Per-repetition values against their baselines. A throughput's ratio reads baseline / value (how many
 * times more the baseline does), so that above 1 is slower, as for latencies.
 */
type RatioOf = 'value / baseline' | 'baseline / value';
function against(values: number[], baselines: number[], ratioOf: RatioOf = 'value / baseline') {
  const figure = paired(values, baselines);
  if (ratioOf === 'value / baseline') return figure;
  const { ratio, ratioSamples } = paired(baselines, values);
  return { ...figure, ratio, ratioSamples };
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '');

export const benchmark: Benchmark = {
  name: 'serving',
  description:
    `Prediction-server load: POST /predict of the prediction server (startServing, in a child process opened like \`mlpipe serve\`: SQLite metadata store and online store, DuckDB, log level warn) ` +
    `with a registered production model (6 inputs) and online features for 12 airports and 132 routes, driven from this process by a loopback load generator ` +
    `(node:http, keep-alive, concurrency ${CONCURRENCY}; per run at most ${SCENARIOS.map((s) => `${s.requests} requests of ${s.rows} row${s.rows > 1 ? 's' : ''}`).join(' or ')}, and at most ${SCENARIOS[0].timeLimitMs / 1000} s). ` +
    `Baselines, alternating with it: bare Fastify (same body limit, POST /predict parsing the same bodies and answering one fixed score per row, in a child process, same load) for requests/s and latency; ` +
    `\`scoreFeatureRows\` (src/ml/scorer.ts) called in-process on the very feature rows the server answered with, one call per request, for predictions/s (no HTTP, DuckDB, online store or prediction log). ` +
    `${OVERSIZED} oversized bodies (> 256 KiB) are sent during an extra load run and must each be answered 413; afterwards the prediction log is counted by requestId against every 200 answer.`,
  async run(ctx: BenchContext) {
    const started = Date.now();
    const dataDir = path.join(ctx.tmpDir, 'data');
    fs.mkdirSync(dataDir, { recursive: true });
    const databaseUrl = `sqlite:${path.join(dataDir, 'metadata.sqlite')}`;
    const withStore = async <T>(work: (store: MetadataStore) => Promise<T>) => {
      const store = await openMetadataStore(databaseUrl);
      try {
        return await work(store);
      } finally {
        await store.close();
      }
    };
    const onnxVersion = await withStore(async (store) => {
      const online = openOnlineStore(undefined, store.db);
      try {
        const rows = await prepareServingData(store, online, ArtifactStore.local(dataDir));
        ctx.log(`registered flight-delay v1 (production) and ${rows} online feature rows in ${dataDir}`);
        return await registerOnnxVersion(ctx, store, ArtifactStore.local(dataDir));
      } finally {
        await online.close();
      }
    });

    const startServer = async (task: ServerTask) => {
      const child = startChild<ServerResult>(ctx, 'serving-server.ts', task, bareEnv());
      return { ...child, url: `${await child.line(LISTENING_PREFIX, 60_000)}/predict` };
    };
    const predictServer = await startServer({ kind: 'predict', dataDir });
    let trivialServer: Awaited<ReturnType<typeof startServer>> | undefined;
    const runs: RunSample[] = [];
    const bare: BareSample[] = [];
    /** Each requestId the prediction server answered, with its predictions: every one starts with `run-`. */
    const served = new Map<string, number>();
    /** A bounded load of `run-<prefix>`-numbered requests; the prediction server's answers are kept for the log check. */
    const load = async (
      url: string,
      prefix: string,
      bounds: { requests: number; timeLimitMs: number },
      rows: number,
      options: Pick<LoadOptions, 'onAnswer'> & { version?: number } = {},
    ) => {
      const result = await runLoad({
        url,
        concurrency: CONCURRENCY,
        ...bounds,
        body: (i) => loadBody(`run-${prefix}`, i, rows, options.version),
        onAnswer: options.onAnswer,
      });
      if (url === predictServer.url) result.served.forEach((n, id) => served.set(id, n));
      return result;
    };
    let oversized: (number | string)[] = [];
    let extra: LoadResult | undefined;
    let predictResult: ServerResult;
    let trivialResult: ServerResult | undefined;
    try {
      trivialServer = await startServer({ kind: 'trivial' });
      for (const server of [predictServer, trivialServer])
        for (const rows of [1, 10]) {
          const warm = await load(server.url, `warm${rows}`, { requests: WARMUP_REQUESTS, timeLimitMs: 30_000 }, rows);
          if (warm.errors) throw new Error(`warm-up against ${server.url} failed: ${JSON.stringify(warm.errorKinds)}`);
        }

      const measure = async (target: Target, rep: number, scenario: Scenario, options?: Parameters<typeof load>[4]) => {
        const server = target === 'trivial' ? trivialServer! : predictServer;
        const cpu0 = processCpuSeconds(server.pid);
        const result = await load(server.url, `${target}${rep}x${scenario.rows}`, scenario, scenario.rows, options);
        const cpuSeconds = (processCpuSeconds(server.pid) ?? NaN) - (cpu0 ?? NaN);
        // Bare Fastify answers no predictions: count the rows it was sent, so both read as predictions/s.
        if (target === 'trivial') result.predictions = result.ok * scenario.rows;
        const { served: _, latenciesMs, ...rest } = result;
        const seconds = result.wallMs / 1000;
        const sample: RunSample = {
          rep,
          rows: scenario.rows,
          target,
          load: rest,
          requestsPerSecond: result.ok / seconds,
          predictionsPerSecond: result.predictions / seconds,
          p50Ms: percentile(latenciesMs, 50),
          p90Ms: percentile(latenciesMs, 90),
          p99Ms: percentile(latenciesMs, 99),
          maxMs: Math.max(...latenciesMs),
          serverCpuMsPerRequest: result.sent ? (cpuSeconds * 1000) / result.sent : NaN,
        };
        runs.push(sample);
        return sample;
      };
      for (let rep = 1; rep <= ctx.reps; rep++) {
        for (const scenario of SCENARIOS) {
          const trivial = await measure('trivial', rep, scenario);
          const answers: Answer[] = [];
          const s = await measure('predict', rep, scenario, {
            onAnswer: (i: number, body: PredictAnswer) =>
              (answers[i] = {
                rows: body.predictions!.map((p) => p.features),
                scores: body.predictions!.map((p) => p.score),
              }),
          });
          bare.push(await bareScoring(rep, scenario.rows, answers.filter(Boolean)));
          if (onnxVersion !== undefined && scenario === SCENARIOS[0])
            await measure('onnx', rep, scenario, { version: onnxVersion });
          ctx.log(
            `#${rep} ${scenario.rows} row(s)/request: ${s.load.ok}/${s.load.sent} ok in ${fmt(s.load.wallMs / 1000, 2)} s, ${fmt(s.requestsPerSecond)} req/s, ` +
              `p50 ${fmt(s.p50Ms, 2)} ms, p99 ${fmt(s.p99Ms, 2)} ms, errors ${s.load.errors}; bare Fastify ${fmt(trivial.requestsPerSecond)} req/s; ` +
              `bare scoreFeatureRows ${fmt(bare.at(-1)!.predictionsPerSecond, 0)} predictions/s`,
          );
        }
      }

      // Oversized bodies while an extra load runs (not in the throughput figures; in the log check).
      [extra, oversized] = await Promise.all([
        load(predictServer.url, 'extra', { requests: 500, timeLimitMs: 20_000 }, 10),
        sendOversized(predictServer.url, 'oversized', OVERSIZED),
      ]);
      ctx.log(
        `oversized: ${oversized.filter((s) => s === 413).length}/${OVERSIZED} answered 413; extra load ${extra.ok}/${extra.sent} ok, errors ${JSON.stringify(extra.errorKinds)}`,
      );
    } finally {
      trivialResult = await trivialServer?.stop();
      predictResult = await predictServer.stop();
    }

    // The prediction log, counted by requestId, once the server has stopped (in-flight requests logged).
    const [check, oversizedLogged] = await withStore(async (store) => [
      await checkPredictionLog(store, 'run', served),
      (await checkPredictionLog(store, 'oversized', new Map())).logged,
    ]);
    const log = {
      logged: check.logged,
      served: check.served,
      lost: check.lost.length,
      duplicated: check.duplicated.length,
      unexpected: check.unexpected.length + oversizedLogged,
      oversizedLogged,
    };
    ctx.log(
      `prediction log: ${log.logged} entries for ${log.served} served predictions (${served.size} requests); lost ${log.lost}, duplicated ${log.duplicated}, unexpected ${log.unexpected}`,
    );

    const figures: Figure[] = [];
    for (const scenario of SCENARIOS) {
      const of = (target: Target) => runs.filter((r) => r.target === target && r.rows === scenario.rows);
      const [subject, trivial] = [of('predict'), of('trivial')];
      const pick = (f: (r: RunSample) => number) => subject.map(f);
      const label = `${scenario.rows} row${scenario.rows > 1 ? 's' : ''}/request`;
      const figure = (name: string, unit: string, rest: Omit<Figure, 'name' | 'unit'>): Figure => ({
        name: `${label}: ${name}`,
        unit,
        ...(scenario === SCENARIOS[0] && HEADLINE_FIGURES.includes(name) ? { headline: true } : {}),
        ...(AIMS[`${label}: ${name}`] ? { aim: AIMS[`${label}: ${name}`] } : {}),
        ...rest,
      });
      const vsTrivial = (f: (r: RunSample) => number, ratioOf?: RatioOf) => against(pick(f), trivial.map(f), ratioOf);
      const bareRuns = bare.filter((b) => b.rows === scenario.rows);
      const maxScoreDiff = Math.max(...bareRuns.map((b) => b.maxScoreDiff));
      figures.push(
        figure('throughput', 'req/s', {
          ...vsTrivial((r) => r.requestsPerSecond, 'baseline / value'),
          ratioNote:
            'bare Fastify requests/s / prediction server requests/s (how many times more a trivial route answers), median of per-repetition ratios',
          note: `requests answered 200 over the run's wall time; sent per run: ${pick((r) => r.load.sent).join(', ')}`,
        }),
        figure('predictions/s', 'predictions/s', {
          ...against(
            pick((r) => r.predictionsPerSecond),
            bareRuns.map((b) => b.predictionsPerSecond),
            'baseline / value',
          ),
          ratioNote: 'bare scoreFeatureRows predictions/s / served predictions/s, median of per-repetition ratios',
          note: `baseline: scoreFeatureRows in-process on the same feature rows, one call per request; its scores equal the served ones to ${maxScoreDiff.toExponential(1)}`,
        }),
        figure('p50 latency', 'ms', {
          ...vsTrivial((r) => r.p50Ms),
          ratioNote: 'prediction server p50 / bare Fastify p50',
        }),
        figure('p99 latency', 'ms', {
          ...vsTrivial((r) => r.p99Ms),
          ratioNote: 'prediction server p99 / bare Fastify p99',
        }),
        figure('errors', '', {
          value: subject.reduce((s, r) => s + r.load.errors, 0),
          samples: pick((r) => r.load.errors),
          aim: { on: 'value', op: '<=', limit: 0, text: 'none' },
          note: `non-200 answers and transport errors over all repetitions (${subject.reduce((s, r) => s + r.load.sent, 0)} requests)`,
        }),
      );
      if ([...subject, ...trivial].every((r) => Number.isFinite(r.serverCpuMsPerRequest)))
        figures.push(
          figure('server CPU per request', 'ms', {
            ...vsTrivial((r) => r.serverCpuMsPerRequest),
            ratioNote: 'prediction server CPU / bare Fastify CPU per request (server process, user + system, /proc)',
          }),
        );
    }
    figures.push(
      {
        name: 'oversized bodies not answered 413',
        value: oversized.filter((s) => s !== 413).length,
        unit: '',
        aim: { on: 'value', op: '<=', limit: 0, text: 'none' },
        note: `${OVERSIZED} bodies of ~300 KiB (limit 256 KiB) sent 4 at a time during an extra load of ${extra?.sent ?? 0} requests of 10 rows (${extra?.errors ?? 'n/a'} errors); statuses: ${[...new Set(oversized)].map((v) => `${oversized.filter((s) => s === v).length} x ${v}`).join(', ')}`,
      },
      {
        name: 'prediction log: lost or duplicated entries',
        value: log.lost + log.duplicated + log.unexpected,
        unit: '',
        aim: { on: 'value', op: '<=', limit: 0, text: 'exactly one per prediction' },
        note: `${log.logged} entries for ${log.served} predictions served in ${served.size} requests (warm-up, measured and extra runs), counted by requestId: ${log.lost} requests with entries missing, ${log.duplicated} with extra entries, ${log.unexpected} logged requestIds no 200 answer carried (oversized bodies: ${log.oversizedLogged} entries)`,
      },
    );
    if (onnxVersion !== undefined) {
      // The ONNX version against the built-in production model, 1 row/request, same server, same repetitions.
      const onnx = runs.filter((r) => r.target === 'onnx');
      const builtIn = runs.filter((r) => r.target === 'predict' && r.rows === 1);
      const note = `LightGBM, 200 trees, asked for as version ${onnxVersion}; the built-in logistic regression is the production version; same server, alternating`;
      const vsBuiltIn = (f: (r: RunSample) => number, ratioOf?: RatioOf) =>
        against(onnx.map(f), builtIn.map(f), ratioOf);
      figures.push(
        {
          name: 'ONNX model, 1 row/request: throughput',
          unit: 'req/s',
          ...vsBuiltIn((r) => r.requestsPerSecond, 'baseline / value'),
          ratioNote: 'built-in model requests/s / ONNX model requests/s, median of per-repetition ratios',
          note,
        },
        {
          name: 'ONNX model, 1 row/request: p99 latency',
          unit: 'ms',
          ...vsBuiltIn((r) => r.p99Ms),
          ratioNote: 'ONNX p99 / built-in p99, median of per-repetition ratios',
          note,
        },
      );
    }
    figures.push({
      name: 'peak RSS (prediction server)',
      value: predictResult.peakRssBytes,
      unit: 'bytes',
      note: `whole run (${fmt(predictResult.cpuSeconds, 1)} CPU s); bare Fastify: ${fmt((trivialResult?.peakRssBytes ?? NaN) / 2 ** 20, 0)} MiB`,
    });

    return {
      name: 'serving',
      description: benchmark.description,
      seconds: (Date.now() - started) / 1000,
      figures,
      details: [
        columnTable(
          'Runs (in the order taken)',
          [
            ['#', (r) => r.rep],
            ['server', (r) => TARGETS[r.target]],
            ['rows/request', (r) => r.rows],
            ['sent', (r) => r.load.sent],
            ['ok', (r) => r.load.ok],
            ['errors', (r) => r.load.errors],
            ['wall s', (r) => fmt(r.load.wallMs / 1000, 2)],
            ['req/s', (r) => fmt(r.requestsPerSecond)],
            ['predictions/s', (r) => fmt(r.predictionsPerSecond)],
            ['p50 ms', (r) => fmt(r.p50Ms, 2)],
            ['p90 ms', (r) => fmt(r.p90Ms, 2)],
            ['p99 ms', (r) => fmt(r.p99Ms, 2)],
            ['max ms', (r) => fmt(r.maxMs, 2)],
            ['server CPU ms/request', (r) => fmt(r.serverCpuMsPerRequest, 2)],
          ],
          runs,
          'Bare Fastify predictions/s counts the rows it was sent (it scores none).',
        ),
      ],
      data: {
        concurrency: CONCURRENCY,
        scenarios: SCENARIOS,
        warmupRequests: WARMUP_REQUESTS,
        runs,
        bare,
        oversized,
        predictionLog: log,
        servers: { predict: predictResult, trivial: trivialResult },
      },
    };
  },
};
