/**
 * Batch scoring benchmark: the ONNX scorer every model kind goes through after training
 * (src/ml/scorer.ts) against a bare onnxruntime-node loop, and the peak RSS of scoring 2.9M and 29M rows
 * streamed a chunk at a time, as the scoring pipeline reads a day at a time.
 * Each task of this module runs in a fresh child process, so its peak RSS is its own:
 * - `setup` (not measured): the model inputs as one Parquet file, and an ONNX model from the bundled
 *   LightGBM trainer (in its provisioned Python environment); the serving benchmark runs it too;
 * - `throughput`: every row loaded as columns, then the scorer and the bare loop, alternating;
 * - `memory`: the rows streamed from the file and scored, `passes` times over.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DuckDBDoubleVector } from '@duckdb/node-api';
import * as ort from 'onnxruntime-node';
import { runAsChild, runChild } from './child';
import { peakRssBytes } from './process-stats';
import { bareFeatureSql } from './bare-features';
import { openDuckDb, sqlIdent, sqlString } from '../src/data/duckdb';
import { readMatrixFromDuckDB } from '../src/data/read-matrix';
import { transformSql } from '../src/ml/feature-transform';
import { openOnnxScorer, scoreMatrixRange } from '../src/ml/scorer';
import { flightsLgbmSpec } from '../src/specs/flights-lgbm';
import { defaultPythonEnvsDir, ensurePythonEnv } from '../src/training/python-env';
import { loadTrainingSpec } from '../src/training/training-spec';

import { median, type BenchContext, type Benchmark, type BenchmarkResult } from './report';

export interface SetupTask {
  kind: 'setup';
  dir: string;
}
export interface SetupResult {
  inputs: string;
  model: string;
  features: string[];
  rows: number;
  trainRows: number;
  seconds: number;
}
type Input = Pick<SetupResult, 'inputs' | 'model' | 'features'>;
type ThroughputTask = Input & { kind: 'throughput'; reps: number };
type MemoryTask = Input & { kind: 'memory'; passes: number };

const FROM = '2001-01-08';
const TO = '2001-06-30';
const CHUNK_ROWS = 65_536;

async function setup(task: SetupTask): Promise<SetupResult> {
  const t0 = performance.now();
  await fs.mkdir(task.dir, { recursive: true });
  const t = loadTrainingSpec('flights');
  const source = path.resolve(__dirname, '..', 'node_modules/vega-datasets/data/flights-3m.parquet');
  const db = await openDuckDb({ memoryLimit: '2GB', tempDirectory: path.join(task.dir, 'duckdb-tmp') });
  const conn = await db.connect();
  const inputs = path.join(task.dir, 'inputs.parquet');
  const columns = t.transforms.map((x) => `CAST(${transformSql(x)} AS DOUBLE) AS ${sqlIdent(x.name)}`);
  await conn.run(`COPY (
    SELECT (row_number() OVER (ORDER BY date, delay, distance, origin, destination) - 1)::BIGINT AS "row", ${columns.join(', ')},
      CAST((${t.model.label.sql}) AS TINYINT) AS "label", CAST(date AS DATE) AS day
    FROM (${bareFeatureSql([source], FROM, TO)}) ORDER BY "row") TO ${sqlString(inputs)} (FORMAT parquet)`);
  // The trainer's contract: train, validation and test splits by day, in row order.
  const trainer = path.join(task.dir, 'trainer');
  const splits = {
    train: ['2001-01-08', '2001-02-14'],
    validation: ['2001-02-15', '2001-02-21'],
    test: ['2001-02-22', '2001-02-28'],
  };
  const files: Record<string, string> = {};
  for (const [name, [from, to]] of Object.entries(splits)) {
    files[name] = path.join(trainer, `${name}.parquet`);
    await fs.mkdir(trainer, { recursive: true });
    await conn.run(
      `COPY (SELECT * EXCLUDE (day) FROM read_parquet(${sqlString(inputs)}) WHERE day BETWEEN DATE '${from}' AND DATE '${to}' ORDER BY "row") TO ${sqlString(files[name]!)} (FORMAT parquet)`,
    );
  }
  const counted = (
    await conn.runAndReadAll(
      `SELECT count(*)::INTEGER AS n, count(*) FILTER (WHERE day <= DATE '2001-02-14')::INTEGER AS train FROM read_parquet(${sqlString(inputs)})`,
    )
  ).getRowObjectsJson()[0]!;
  conn.closeSync();
  db.closeSync();

  const spec = flightsLgbmSpec.model!.trainer!;
  const env = await ensurePythonEnv(path.join(spec.directory, spec.requirements!), {
    python: process.env.MLPIPE_PYTHON ?? 'python3',
    envsDir: process.env.MLPIPE_PYTHON_ENVS_DIR ?? defaultPythonEnvsDir(),
  });
  const input = path.join(trainer, 'input.json');
  for (const dir of ['checkpoint', 'output']) await fs.mkdir(path.join(trainer, dir), { recursive: true });
  await fs.writeFile(
    input,
    JSON.stringify({
      contract: 1,
      splits: files,
      features: t.features,
      hyperParameters: spec.hyperParameters,
      checkpointDir: path.join(trainer, 'checkpoint'),
      resume: false,
      outputDir: path.join(trainer, 'output'),
    }),
  );
  await promisify(execFile)(path.join(env.bin, 'python'), [spec.command[1]!, input], {
    cwd: spec.directory,
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    inputs,
    model: path.join(trainer, 'output', 'model.onnx'),
    features: t.features,
    rows: Number(counted.n),
    trainRows: Number(counted.train),
    seconds: (performance.now() - t0) / 1000,
  };
}

async function throughput(task: ThroughputTask) {
  const db = await openDuckDb();
  const conn = await db.connect();
  const matrix = await readMatrixFromDuckDB(
    conn,
    `SELECT * FROM read_parquet(${sqlString(task.inputs)}) ORDER BY "row"`,
    {
      features: task.features,
      label: 'label',
      day: 'day',
      segments: [],
    },
  );
  conn.closeSync();
  db.closeSync();
  const d = task.features.length;
  // The bare loop's input, row-major float32 as the session takes it, built before its clock starts.
  const chunks: Float32Array[] = [];
  for (let start = 0; start < matrix.rows; start += CHUNK_ROWS) {
    const n = Math.min(CHUNK_ROWS, matrix.rows - start);
    const data = new Float32Array(n * d);
    for (let j = 0; j < d; j++) for (let i = 0; i < n; i++) data[i * d + j] = matrix.columns[j]![start + i]!;
    chunks.push(data);
  }
  const session = await ort.InferenceSession.create(task.model, { graphOptimizationLevel: 'all' });
  const inputName = session.inputNames[0]!;
  const bare = async (): Promise<Float64Array> => {
    const scores = new Float64Array(matrix.rows);
    let offset = 0;
    for (const data of chunks) {
      const n = data.length / d;
      const out = await session.run({ [inputName]: new ort.Tensor('float32', data, [n, d]) }, ['probabilities']);
      const p = out.probabilities!.data as Float32Array;
      for (let i = 0; i < n; i++) scores[offset + i] = p[i * 2 + 1]!;
      offset += n;
    }
    return scores;
  };
  const scorer = await openOnnxScorer(task.model, task.features);
  const result = { rows: matrix.rows, scorerSeconds: [] as number[], bareSeconds: [] as number[], maxAbsDifference: 0 };
  for (let rep = 0; rep < task.reps; rep++) {
    let t0 = performance.now();
    const bareScores = await bare();
    result.bareSeconds.push((performance.now() - t0) / 1000);
    t0 = performance.now();
    const scores = await scoreMatrixRange(scorer, matrix, { start: 0, end: matrix.rows });
    result.scorerSeconds.push((performance.now() - t0) / 1000);
    for (let i = 0; i < matrix.rows; i++)
      result.maxAbsDifference = Math.max(result.maxAbsDifference, Math.abs(scores[i]! - bareScores[i]!));
  }
  await scorer.close();
  await session.release();
  return result;
}

async function memory(task: MemoryTask) {
  const db = await openDuckDb();
  const conn = await db.connect();
  const scorer = await openOnnxScorer(task.model, task.features);
  const t0 = performance.now();
  let rows = 0;
  for (let pass = 0; pass < task.passes; pass++) {
    const result = await conn.stream(
      `SELECT ${task.features.map(sqlIdent).join(', ')} FROM read_parquet(${sqlString(task.inputs)})`,
    );
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const n = chunk.rowCount;
      const columns = task.features.map((_, j) => {
        const vector = chunk.getColumnVector(j) as DuckDBDoubleVector;
        return Float64Array.from({ length: n }, (_, i) => vector.getItem(i) ?? NaN);
      });
      await scorer.scoreColumns(columns, n);
      rows += n;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  await scorer.close();
  conn.closeSync();
  db.closeSync();
  return { rows, seconds, peakRssBytes: peakRssBytes() };
}

const TIMEOUT_MS = 20 * 60_000;

export const benchmark: Benchmark = {
  name: 'scoring',
  description:
    'The ONNX scorer (src/ml/scorer.ts: columns to row-major float32 in 65,536-row chunks, onnxruntime-node, the positive class taken out) ' +
    "on the flights model inputs of 2001-01-08..2001-06-30 (bench/bare-features.ts `bareFeatureSql` and the spec's transforms), " +
    'with the LightGBM model the bundled Python trainer makes on January-February (trainers/flight_delay_lgbm.py, 200 rounds), ' +
    'against a bare onnxruntime-node loop: the same session runs on the same chunks, their input built before its clock starts; alternating in one fresh process. ' +
    'Memory: the rows streamed from Parquet a DuckDB chunk at a time and scored, 1 and 10 passes, each in a fresh process.',
  async run(ctx: BenchContext): Promise<BenchmarkResult> {
    const started = performance.now();
    ctx.log('preparing the model inputs and training the LightGBM model (not measured)');
    const child = <R>(task: SetupTask | ThroughputTask | MemoryTask) =>
      runChild<R>(ctx, 'scoring.bench.ts', task, TIMEOUT_MS);
    const setup = await child<SetupResult>({ kind: 'setup', dir: ctx.tmpDir });
    ctx.log(`setup took ${setup.seconds.toFixed(1)} s: ${setup.rows} rows, trained on ${setup.trainRows}`);
    const input = { inputs: setup.inputs, model: setup.model, features: setup.features };
    const t = await child<Awaited<ReturnType<typeof throughput>>>({ kind: 'throughput', ...input, reps: ctx.reps });
    const streamed: Awaited<ReturnType<typeof memory>>[] = [];
    for (const passes of [1, 10]) {
      streamed.push(await child({ kind: 'memory', ...input, passes }));
      const { rows, seconds, peakRssBytes } = streamed.at(-1)!;
      ctx.log(`${rows} rows streamed: ${seconds.toFixed(1)} s, peak RSS ${(peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
    }
    const [small, large] = [streamed[0]!, streamed[1]!];
    const ratios = t.scorerSeconds.map((s, i) => s / t.bareSeconds[i]!);
    return {
      name: 'scoring',
      description: this.description,
      seconds: (performance.now() - started) / 1000,
      figures: [
        {
          name: 'ONNX scorer: throughput',
          headline: true,
          value: median(t.scorerSeconds.map((s) => t.rows / s)),
          unit: 'rows/s',
          baseline: median(t.bareSeconds.map((s) => t.rows / s)),
          ratio: median(ratios),
          ratioNote: 'scorer time / bare onnxruntime-node time, median of the per-repetition ratios',
          samples: t.scorerSeconds.map((s) => t.rows / s),
          baselineSamples: t.bareSeconds.map((s) => t.rows / s),
          note: `${t.rows} rows; the scorer's scores equal the bare loop's to ${t.maxAbsDifference.toExponential(1)}`,
        },
        {
          name: `peak RSS, ${(small.rows / 1e6).toFixed(1)}M rows streamed`,
          value: small.peakRssBytes,
          unit: 'bytes',
          note: `${(small.rows / small.seconds / 1e6).toFixed(2)}M rows/s including the Parquet read`,
        },
        {
          name: `peak RSS, ${(large.rows / 1e6).toFixed(1)}M rows streamed`,
          headline: true,
          value: large.peakRssBytes,
          unit: 'bytes',
          baseline: small.peakRssBytes,
          ratio: large.peakRssBytes / small.peakRssBytes,
          ratioNote: `peak RSS at ${(large.rows / 1e6).toFixed(0)}M rows / at ${(small.rows / 1e6).toFixed(1)}M rows`,
          aim: { on: 'ratio', op: '<=', limit: 1.15, text: 'flat as rows grow (within 1.15x)' },
          note: `${(large.rows / large.seconds / 1e6).toFixed(2)}M rows/s including the Parquet read`,
        },
      ],
      data: {
        setup: { ...setup, inputs: 'inputs.parquet', model: 'model.onnx' },
        throughput: t,
        memory: { 1: small, 10: large },
      },
    };
  },
};

if (require.main === module)
  runAsChild<SetupTask | ThroughputTask | MemoryTask>((task) => {
    if (task.kind === 'setup') return setup(task);
    if (task.kind === 'throughput') return throughput(task);
    return memory(task);
  });
