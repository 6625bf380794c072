/**
 * Batch scoring benchmark: the ONNX scorer every model kind goes through after training
 * (src/ml/scorer.ts, onnxruntime-node) on 2.9M rows of real flight model inputs, against a bare
 * onnxruntime-node loop over the same rows in the same process, and the peak RSS of scoring 2.9M and
 * 29M rows streamed a chunk at a time, as the scoring pipeline reads a day at a time.
 */
import { median, type BenchContext, type Benchmark, type BenchmarkResult } from './report';
import { runBenchChild } from './child';
import type {
  MemoryResult,
  MemoryTask,
  SetupResult,
  SetupTask,
  ThroughputResult,
  ThroughputTask,
} from './scoring-worker';

const SETUP_TIMEOUT_MS = 20 * 60_000;
const MEASURE_TIMEOUT_MS = 20 * 60_000;
const MiB = 2 ** 20;

export const benchmark: Benchmark = {
  name: 'scoring',
  description:
    'The ONNX scorer (src/ml/scorer.ts: columns to row-major float32 in 65,536-row chunks, onnxruntime-node, the positive class taken out) ' +
    "on the flights model inputs of 2001-01-08..2001-06-30 (bench/features-worker.ts `bareFeatureSql` and the spec's transforms), " +
    'with the LightGBM model the bundled Python trainer makes on January-February (trainers/flight_delay_lgbm.py, 200 rounds), ' +
    'against a bare onnxruntime-node loop: the same session runs on the same chunks, their input built before its clock starts; alternating in one fresh process. ' +
    'Memory: the rows streamed from Parquet a DuckDB chunk at a time and scored, 1 and 10 passes, each in a fresh process.',
  async run(ctx: BenchContext): Promise<BenchmarkResult> {
    const started = performance.now();
    ctx.log('preparing the model inputs and training the LightGBM model (not measured)');
    const setupTask: SetupTask = { kind: 'setup', dir: ctx.tmpDir };
    const setup = await runBenchChild<SetupResult>(ctx.repoRoot, 'scoring-worker.ts', setupTask, SETUP_TIMEOUT_MS);
    ctx.log(`setup took ${setup.seconds.toFixed(1)} s: ${setup.rows} rows, trained on ${setup.trainRows}`);
    const base = { inputs: setup.inputs, model: setup.model, features: setup.features };
    const throughputTask: ThroughputTask = { kind: 'throughput', ...base, reps: ctx.reps };
    const t = await runBenchChild<ThroughputResult>(
      ctx.repoRoot,
      'scoring-worker.ts',
      throughputTask,
      MEASURE_TIMEOUT_MS,
    );
    const memory: Record<number, MemoryResult> = {};
    const memoryTask = (passes: number): MemoryTask => ({ kind: 'memory', ...base, passes });
    for (const passes of [1, 10]) {
      memory[passes] = await runBenchChild<MemoryResult>(
        ctx.repoRoot,
        'scoring-worker.ts',
        memoryTask(passes),
        MEASURE_TIMEOUT_MS,
      );
      ctx.log(
        `${memory[passes]!.rows} rows streamed: ${memory[passes]!.seconds.toFixed(1)} s, peak RSS ${(memory[passes]!.peakRssBytes / MiB).toFixed(0)} MiB`,
      );
    }
    const ratios = t.scorerSeconds.map((s, i) => s / t.bareSeconds[i]!);
    const [small, large] = [memory[1]!, memory[10]!];
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
      data: { setup: { ...setup, inputs: 'inputs.parquet', model: 'model.onnx' }, throughput: t, memory },
    };
  },
};
