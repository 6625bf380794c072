/**
 * Evidently's DataDriftPreset on the drift benchmark's two windows, in a Python process of its own
 * (bench/evidently/data_drift.py, in an environment made from bench/evidently/requirements.txt the way
 * a trainer's is): the side-by-side baseline computeDrift is measured against.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { defaultPythonEnvsDir, ensurePythonEnv } from '../src/training/python-env';
import { RESULT_PREFIX } from './child';

export interface EvidentlyRun {
  seconds: number;
  /** The process's RSS once both frames were read, and its high-water mark after the report. */
  loadedRssBytes: number;
  peakRssBytes: number;
  driftedColumns: number | null;
  /** Each column's drift statistic (its chosen method's, e.g. the normed Wasserstein distance). */
  statistics: Record<string, number>;
}

const RUN_TIMEOUT_MS = 10 * 60_000;

/** Runs the report `reps` times on the two Parquet files, restricted to `columns`. */
export async function runEvidently(
  repoRoot: string,
  files: { reference: string; current: string },
  columns: string[],
  reps: number,
  log: (message: string) => void,
): Promise<EvidentlyRun[]> {
  const dir = path.join(repoRoot, 'bench', 'evidently');
  const env = await ensurePythonEnv(path.join(dir, 'requirements.txt'), {
    python: process.env.MLPIPE_PYTHON ?? 'python3',
    envsDir: defaultPythonEnvsDir(),
    onProgress: log,
  });
  const runs: EvidentlyRun[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const { stdout } = await promisify(execFile)(
      path.join(env.bin, 'python'),
      [path.join(dir, 'data_drift.py'), files.reference, files.current, JSON.stringify(columns)],
      { timeout: RUN_TIMEOUT_MS, maxBuffer: 16 * 2 ** 20 },
    );
    const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
    if (!line) throw new Error(`data_drift.py printed no ${RESULT_PREFIX.trim()} line: ${stdout.slice(-500)}`);
    runs.push(JSON.parse(line.slice(RESULT_PREFIX.length)) as EvidentlyRun);
    log(`Evidently run ${rep + 1}: ${runs.at(-1)!.seconds.toFixed(1)} s`);
  }
  return runs;
}
