import { rangeView, type FeatureMatrix, type RowRange } from './feature-matrix';
import { calibration, evaluate, type CalibrationBin, type ModelMetrics } from './metrics';

export interface SegmentEvaluation {
  name: string;
  rows: number;
  positives: number;
  metrics?: ModelMetrics;
  /** Why metrics are absent, e.g. "only one class (0 positives of 12 rows)". */
  note?: string;
}

/** One model's scores judged on one split's rows: overall, its calibration curve, and per segment. */
export interface Evaluation {
  split: string;
  from: string;
  to: string;
  rows: number;
  overall: ModelMetrics;
  calibration: CalibrationBin[];
  segments: SegmentEvaluation[];
}

/**
 * Evaluates `scores` (one per row of `range`, in row order) against the matrix's labels. The whole
 * range must have both classes (a split without them cannot judge a model, so that is an error);
 * a segment without both classes gets a note instead of metrics, since AUC is undefined there.
 */
export function evaluateRows(
  matrix: FeatureMatrix,
  range: RowRange,
  scores: Float64Array,
  threshold: number,
  meta: { split: string; from: string; to: string },
): Evaluation {
  const { labels } = rangeView(matrix, range);
  if (scores.length !== labels.length)
    throw new RangeError(`${scores.length} scores for the ${labels.length} rows of the ${meta.split} split`);
  const positives = countOnes(labels);
  const missing = whyNoMetrics(labels.length, positives);
  if (missing) throw new RangeError(`cannot evaluate the ${meta.split} split (${meta.from}..${meta.to}): ${missing}`);

  const segments = matrix.segments.map((name, k): SegmentEvaluation => {
    const mask = matrix.segmentMasks[k]!.subarray(range.start, range.end);
    const rows = countOnes(mask);
    const subsetLabels = new Uint8Array(rows);
    const subsetScores = new Float64Array(rows);
    for (let i = 0, j = 0; i < mask.length; i++) {
      if (mask[i]) {
        subsetLabels[j] = labels[i]!;
        subsetScores[j++] = scores[i]!;
      }
    }
    const segmentPositives = countOnes(subsetLabels);
    const note = whyNoMetrics(rows, segmentPositives);
    return note
      ? { name, rows, positives: segmentPositives, note }
      : { name, rows, positives: segmentPositives, metrics: evaluate(subsetLabels, subsetScores, threshold) };
  });

  return {
    ...meta,
    rows: labels.length,
    overall: evaluate(labels, scores, threshold),
    calibration: calibration(labels, scores).bins,
    segments,
  };
}

/** Metrics (AUC in particular) need both classes; undefined when they can be computed. */
function whyNoMetrics(rows: number, positives: number): string | undefined {
  if (rows === 0) return 'no rows';
  if (positives === 0 || positives === rows) return `only one class (${positives} positives of ${rows} rows)`;
  return undefined;
}

function countOnes(values: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) n += values[i]!;
  return n;
}
