import path from 'node:path';
import type { Columns } from './columns';
import type { FeatureMatrix } from './feature-matrix';
import { scoreColumns, type ModelArtifact } from './model-artifact';
import { loadOnnxScorer } from './onnx-scorer';

/**
 * One way to score every kind of model after training: evaluation, the comparison with production,
 * the baseline, the skew check, monitoring and serving all go through it.
 */
export interface Scorer {
  readonly features: readonly string[];
  /** P(positive) for raw model inputs, columns in `features` order (NaN = missing). */
  scoreColumns(columns: Columns, rows: number): Promise<Float64Array>;
  /** Frees what the model holds (an ONNX session's native memory). */
  close(): Promise<void>;
}

/** The scorer of an artifact whose files are in `dir` (model.json's folder). */
export async function openScorer(artifact: ModelArtifact, dir: string): Promise<Scorer> {
  if (artifact.kind === 'logistic-regression')
    return {
      features: artifact.features,
      scoreColumns: async (columns, rows) => scoreColumns(artifact, columns, rows),
      close: async () => {},
    };
  return openOnnxScorer(path.join(dir, artifact.onnx), artifact.features);
}

/** An ONNX model file as a scorer of `features`. */
export async function openOnnxScorer(file: string, features: readonly string[]): Promise<Scorer> {
  return { features, ...(await loadOnnxScorer(file, features.length)) };
}

/** Runs `work` with the artifact's scorer and closes it after. */
export async function withScorer<T>(
  artifact: ModelArtifact,
  dir: string,
  work: (scorer: Scorer) => Promise<T>,
): Promise<T> {
  const scorer = await openScorer(artifact, dir);
  try {
    return await work(scorer);
  } finally {
    await scorer.close();
  }
}

/** Scores of rows [start, end) of a matrix, reading the model's features from it by name. */
export function scoreMatrixRange(
  scorer: Scorer,
  matrix: FeatureMatrix,
  range: { start: number; end: number },
): Promise<Float64Array> {
  const columns = scorer.features.map((name) => {
    const j = matrix.features.indexOf(name);
    if (j < 0) throw new Error(`the matrix has no feature ${name}`);
    return matrix.columns[j]!.subarray(range.start, range.end);
  });
  return scorer.scoreColumns(columns, range.end - range.start);
}

/**
 * Online scoring of a few rows keyed by feature name; null is a missing value. The rows become
 * columns and take the batch path, so training and serving cannot drift apart. A feature absent from
 * a row is an error, not a missing value: the caller and the model disagree on the feature set.
 */
export function scoreFeatureRows(
  scorer: Scorer,
  rows: readonly Record<string, number | null>[],
): Promise<Float64Array> {
  const columns = scorer.features.map((name) => {
    const column = new Float64Array(rows.length);
    rows.forEach((row, i) => {
      const value = row[name];
      if (value === undefined) throw new RangeError(`row ${i} has no value for feature ${name}`);
      column[i] = value ?? NaN;
    });
    return column;
  });
  return scorer.scoreColumns(columns, rows.length);
}
