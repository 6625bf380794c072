/**
 * The drift benchmark's measuring process (bench/drift.bench.ts runs it once, in a fresh process):
 * 1. loads the two windows with `readMatrixFromDuckDB`;
 * 2. `reps` times, alternating: the bare pass (the mean of every column of both matrices: each value
 *    read once, the least any drift computation does), then `computeDrift`, timed, with the rise of the
 *    peak RSS over the RSS it started from;
 * 3. per column, `columnDrift` (the method computeDrift chose) and `histogramPair` alone, timed, and the
 *    peak RSS they add, with a GC before each column so one column's garbage is not charged to the
 *    next; then `columnDrift` with each other method that applies to the column, for per-method costs.
 * It loads no Temporal module and none of drift.bench.ts's (the dev server, the report): the Temporal
 * worker's hundreds of MiB would swamp what is measured here, and drift.bench.ts's imports added about
 * 10 MiB to every mark when this process was tried as a task of drift.bench.ts itself.
 */
import { runAsChild } from './child';
import { collectAllGarbage } from '../src/data/collect-garbage';
import { peakRssBytes, resetPeakRss } from './process-stats';
import { openDuckDb, sqlString } from '../src/data/duckdb';
import { readMatrixFromDuckDB } from '../src/data/read-matrix';
import type { FeatureMatrix } from '../src/ml/feature-matrix';
import { computeDrift, PREDICTION_COLUMN, type DriftInput, type DriftResult } from '../src/monitoring/drift';
import { histogramPair } from '../src/monitoring/histogram';
import type { ColumnDriftReport } from '../src/monitoring/report-types';
import { columnDrift, type DriftMethod } from '../src/stats/column-drift';

export interface MeasureTask {
  kind: 'measure';
  referenceFile: string;
  currentFile: string;
  features: string[];
  label: string;
  day: string;
  settings: DriftInput['settings'];
  reps: number;
}

interface ColumnTiming {
  column: string;
  /** columnDrift alone with each method that applies to the column (the chosen one among them). */
  methodSeconds: Partial<Record<DriftMethod, number>>;
  histogramSeconds: number;
  /** Peak RSS of the chosen method's test and the histogram over the RSS before them (after a GC), bytes. */
  addedPeakBytes: number;
}

export type MeasureResult = Awaited<ReturnType<typeof measure>>;

const rss = () => process.memoryUsage.rss();
// A full collection before each mark makes it the live memory, not the previous phase's garbage.
const settled = () => {
  collectAllGarbage();
  return rss();
};

/** The process's peak RSS: the highest of the marks read, each since its last reset. */
let peakProcessBytes = 0;
/** The peak RSS since the last reset, also kept in peakProcessBytes. */
function peakSinceReset(): number {
  const bytes = peakRssBytes();
  peakProcessBytes = Math.max(peakProcessBytes, bytes);
  return bytes;
}

function timed<T>(work: () => T): { value: T; seconds: number } {
  const t0 = performance.now();
  const value = work();
  return { value, seconds: (performance.now() - t0) / 1000 };
}

/** The bare pass: one mean per column, every value read once. */
function columnMeans(matrices: FeatureMatrix[]): number[] {
  return matrices.flatMap((m) =>
    m.columns.map((c) => {
      let sum = 0;
      for (let i = 0; i < c.length; i++) sum += c[i]!;
      return sum / c.length;
    }),
  );
}

/** computeDrift's reports in its order: the features, then the prediction. */
const reportsOf = (r: DriftResult) => [...r.columns, ...(r.prediction ? [r.prediction] : [])];

const bytesOf = (m: FeatureMatrix) =>
  m.columns.reduce((s, c) => s + c.byteLength, 0) + m.labels.byteLength + m.dayIndex.byteLength;

/** Chi-square on raw values only where they are few (hours, weekdays): on a continuous column each value would be a category. */
const MAX_CHI_SQUARE_VALUES = 50;
const NUMERIC_METHODS: DriftMethod[] = ['wasserstein', 'ks', 'psi', 'jensen-shannon'];

function fewValues(values: Float64Array): boolean {
  const seen = new Set<number>();
  for (let i = 0; i < values.length && seen.size <= MAX_CHI_SQUARE_VALUES; i++) seen.add(values[i]!);
  return seen.size <= MAX_CHI_SQUARE_VALUES;
}

/**
 * One column as computeDrift judges it (its chosen method, then the histogram), timed, with the peak
 * RSS it adds; then every other method that applies to the column, timed, for the per-method costs.
 */
function columnSample(report: ColumnDriftReport, reference: FeatureMatrix, current: FeatureMatrix): ColumnTiming {
  const sample = {
    kind: 'numeric',
    reference: reference.columns[reference.features.indexOf(report.column)]!,
    current: current.columns[current.features.indexOf(report.column)]!,
  } as const;
  const base = settled();
  resetPeakRss();
  const testSeconds = timed(() =>
    columnDrift(report.column, sample, { method: report.method, threshold: report.threshold }),
  ).seconds;
  const histogramSeconds = timed(() => histogramPair(sample.reference, sample.current)).seconds;
  const peak = peakSinceReset();
  const methodSeconds: Partial<Record<DriftMethod, number>> = { [report.method]: testSeconds };
  const others = [...NUMERIC_METHODS, ...(fewValues(sample.reference) ? (['chi-square'] as const) : [])].filter(
    (m) => m !== report.method,
  );
  for (const method of others) {
    collectAllGarbage();
    methodSeconds[method] = timed(() => columnDrift(report.column, sample, { method })).seconds;
  }
  return { column: report.column, methodSeconds, histogramSeconds, addedPeakBytes: peak - base };
}

async function measure(task: MeasureTask) {
  const start = settled();
  const t0 = performance.now();
  const db = await openDuckDb();
  const conn = await db.connect();
  const load = (file: string) =>
    readMatrixFromDuckDB(conn, `SELECT * FROM read_parquet(${sqlString(file)})`, {
      features: [...task.features, PREDICTION_COLUMN],
      label: task.label,
      day: task.day,
      segments: [],
    });
  const reference = await load(task.referenceFile);
  const current = await load(task.currentFile);
  conn.closeSync();
  db.closeSync();
  const loadSeconds = (performance.now() - t0) / 1000;
  const loaded = settled();
  const peakLoadBytes = peakSinceReset();

  const input: DriftInput = { reference, current, columns: task.features, settings: task.settings };
  const bareSeconds: number[] = [];
  /** Per run: its time; the peak RSS during it, and the RSS right after it (before a GC), over the RSS before it. */
  const drift: { seconds: number; addedPeakBytes: number; addedAfterBytes: number }[] = [];
  /** Per run, each column in computeDrift's order (features, then the prediction). */
  const columns: ColumnTiming[][] = [];
  let peakReset = true;
  let result: DriftResult | undefined;
  for (let rep = 0; rep < task.reps; rep++) {
    collectAllGarbage();
    bareSeconds.push(timed(() => columnMeans([reference, current])).seconds);

    const before = settled();
    peakReset &&= resetPeakRss();
    const run = timed(() => computeDrift(input));
    const peak = peakSinceReset();
    drift.push({ seconds: run.seconds, addedPeakBytes: peak - before, addedAfterBytes: rss() - before });
    result = run.value;

    columns.push(reportsOf(result).map((report) => columnSample(report, reference, current)));
  }
  return {
    rows: { reference: reference.rows, current: current.rows },
    /** The two matrices' typed arrays (columns, labels, day index), and one column. */
    matrixBytes: bytesOf(reference) + bytesOf(current),
    columnBytes: reference.rows * Float64Array.BYTES_PER_ELEMENT,
    loadSeconds,
    /** After start-up (modules loaded), after loading the matrices, and after the last drift, each after a GC. */
    rss: { start, loaded, afterDrift: settled() },
    peakLoadBytes,
    peakProcessBytes,
    peakReset,
    bareSeconds,
    drift,
    columns,
    /** The last run's verdicts, histograms left out. */
    verdicts: reportsOf(result!).map(({ histogram: _, ...verdict }) => verdict),
    dataset: result!.dataset,
  };
}

if (require.main === module) runAsChild<MeasureTask>(measure);
