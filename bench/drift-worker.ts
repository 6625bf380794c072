/**
 * The drift benchmark's measuring process (bench/drift.bench.ts runs it once, in a fresh Node process,
 * so its RSS is the drift's and the matrices', nothing else's):
 * 1. loads the reference and current windows (bench/drift-setup.ts wrote them) with `readMatrixFromDuckDB`;
 * 2. `reps` times, alternating: the bare pass (the mean of every column of both matrices: each value
 *    read once, the least any drift computation does), then `computeDrift`, timed, with the rise of the
 *    peak RSS over the RSS it started from;
 * 3. per column, `columnDrift` (the method computeDrift chose) and `histogramPair` alone, timed, and the
 *    peak RSS each adds, with a GC before each so one column's garbage is not charged to the next.
 *
 *   node --import tsx bench/drift-worker.ts '<task JSON>'
 *
 * Only the worker side of bench/child.ts is used: bench/worker-harness.ts has the same peak-RSS helpers,
 * but loads the Temporal worker, whose hundreds of MiB would swamp what is measured here.
 */
import fs from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { runAsBenchWorker } from './child';
import { openDuckDb, sqlString } from '../src/data/duckdb';
import { readMatrixFromDuckDB } from '../src/data/read-matrix';
import type { FeatureMatrix } from '../src/ml/feature-matrix';
import { computeDrift, PREDICTION_COLUMN, type DriftInput } from '../src/monitoring/drift';
import { histogramPair } from '../src/monitoring/histogram';
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

export interface DriftSample {
  seconds: number;
  /** Peak RSS during computeDrift minus the RSS just before it (after a GC), bytes. */
  addedPeakBytes: number;
  /** RSS right after it returned, before any GC, minus the RSS before it. */
  addedAfterBytes: number;
}

export interface ColumnSample {
  column: string;
  method: DriftMethod;
  drifted: boolean;
  statistic: number;
  testSeconds: number;
  histogramSeconds: number;
  /** Peak RSS of the test and histogram over the RSS before them (after a GC), bytes. */
  addedPeakBytes: number;
}

export interface MeasureResult {
  kind: 'measure';
  rows: { reference: number; current: number };
  /** Bytes of the two matrices' typed arrays (columns, labels, day index). */
  matrixBytes: number;
  columnBytes: number;
  loadSeconds: number;
  /** RSS after start-up (modules loaded), after loading the matrices, and after the last drift, each after a GC. */
  rss: { start: number; loaded: number; afterDrift: number };
  /** Peak RSS while loading (DuckDB's buffers included), and over the whole process. */
  peakLoadBytes: number;
  peakProcessBytes: number;
  peakReset: boolean;
  bareSeconds: number[];
  drift: DriftSample[];
  /** One entry per rep, columns in computeDrift's order (features, then the prediction). */
  columns: ColumnSample[][];
  dataset: { drifted: boolean; driftedColumns: number; columns: number; driftedShare: number };
}

// A forced GC before each mark makes it the live memory, not the previous phase's garbage.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Resets the kernel's peak-RSS mark (VmHWM, and with it getrusage's maxrss) to the current RSS. */
function resetPeakRss(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}
const peakRss = () => process.resourceUsage().maxRSS * 1024;
const rss = () => process.memoryUsage.rss();
const settled = () => {
  gc();
  return rss();
};

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

const bytesOf = (m: FeatureMatrix) => m.columns.reduce((s, c) => s + c.byteLength, 0) + m.labels.byteLength + m.dayIndex.byteLength;

async function measure(task: MeasureTask): Promise<MeasureResult> {
  const start = settled();
  const t0 = performance.now();
  const db = await openDuckDb();
  const conn = await db.connect();
  const load = (file: string) =>
    readMatrixFromDuckDB(conn, `SELECT * FROM read_parquet(${sqlString(file)})`, { features: [...task.features, PREDICTION_COLUMN], label: task.label, day: task.day, segments: [] });
  const reference = await load(task.referenceFile);
  const current = await load(task.currentFile);
  conn.closeSync();
  db.closeSync();
  const loadSeconds = (performance.now() - t0) / 1000;
  const loaded = settled();
  const peakLoadBytes = peakRss();
  let peakProcessBytes = peakLoadBytes;

  const input: DriftInput = { reference, current, columns: task.features, settings: task.settings };
  const bareSeconds: number[] = [];
  const drift: DriftSample[] = [];
  const columns: ColumnSample[][] = [];
  let peakReset = true;
  let result: ReturnType<typeof computeDrift> | undefined;
  for (let rep = 0; rep < task.reps; rep++) {
    gc();
    bareSeconds.push(timed(() => columnMeans([reference, current])).seconds);

    const before = settled();
    peakReset &&= resetPeakRss();
    const run = timed(() => computeDrift(input));
    const peak = peakRss();
    peakProcessBytes = Math.max(peakProcessBytes, peak);
    drift.push({ seconds: run.seconds, addedPeakBytes: peak - before, addedAfterBytes: rss() - before });
    result = run.value;

    const reports = [...result.columns, ...(result.prediction ? [result.prediction] : [])];
    columns.push(
      reports.map((report) => {
        const ref = reference.columns[reference.features.indexOf(report.column)]!;
        const cur = current.columns[current.features.indexOf(report.column)]!;
        const base = settled();
        resetPeakRss();
        const test = timed(() => columnDrift(report.column, { kind: 'numeric', reference: ref, current: cur }, { method: report.method, threshold: report.threshold }));
        const histogram = timed(() => histogramPair(ref, cur));
        const peakColumn = peakRss();
        peakProcessBytes = Math.max(peakProcessBytes, peakColumn);
        return {
          column: report.column,
          method: report.method,
          drifted: test.value.drifted,
          statistic: test.value.statistic,
          testSeconds: test.seconds,
          histogramSeconds: histogram.seconds,
          addedPeakBytes: peakColumn - base,
        };
      }),
    );
  }
  return {
    kind: 'measure',
    rows: { reference: reference.rows, current: current.rows },
    matrixBytes: bytesOf(reference) + bytesOf(current),
    columnBytes: reference.rows * Float64Array.BYTES_PER_ELEMENT,
    loadSeconds,
    rss: { start, loaded, afterDrift: settled() },
    peakLoadBytes,
    peakProcessBytes,
    peakReset,
    bareSeconds,
    drift,
    columns,
    dataset: result!.dataset,
  };
}

if (require.main === module) runAsBenchWorker<MeasureTask>('drift-worker.ts', measure);
