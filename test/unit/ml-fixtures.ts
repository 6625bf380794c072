import type { Evaluation, SegmentEvaluation } from '../../src/ml/evaluation';
import type { ModelMetrics } from '../../src/ml/metrics';

/**
 * Deterministic data for the ml-* tests. The generator is a 32-bit linear congruential generator
 * (Numerical Recipes constants) because its integer arithmetic is trivially reproduced in Python,
 * where the reference values were derived: s = (s * 1664525 + 1013904223) % 2**32; u = s / 2**32.
 */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export interface Synthetic {
  columns: Float64Array[];
  labels: Uint8Array;
  /** The logit that generated the labels, on the raw (unstandardized) features. */
  trueWeights: number[];
  trueIntercept: number;
}

/**
 * Six flight-like features (a departure hour, a log distance, shares and counts on different
 * scales) with labels drawn from a known logistic model; `missingShare` of the first two features'
 * values are NaN, after the label was drawn from the full value.
 */
export function syntheticFlights(rows: number, seed: number, missingShare = 0): Synthetic {
  const next = lcg(seed);
  const trueWeights = [0.12, -0.6, 2.5, 0.04, -1.2, 0.8];
  const trueIntercept = -0.5;
  const columns = trueWeights.map(() => new Float64Array(rows));
  const labels = new Uint8Array(rows);
  const [hour, logDistance, share, count, flag, centered] = columns as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  for (let i = 0; i < rows; i++) {
    hour[i] = Math.floor(next() * 24);
    logDistance[i] = 4 + 4 * next();
    share[i] = next() * next();
    count[i] = Math.floor(next() * 40);
    flag[i] = next() < 0.3 ? 1 : 0;
    centered[i] = 2 * next() - 1;
    let logit = trueIntercept;
    for (let j = 0; j < columns.length; j++) logit += trueWeights[j]! * columns[j]![i]!;
    labels[i] = next() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
    if (next() < missingShare) hour[i] = NaN;
    if (next() < missingShare) logDistance[i] = NaN;
  }
  return { columns, labels, trueWeights, trueIntercept };
}

/** Plausible metrics of a model on a 1000-row split, `overrides` on top. */
export function metricsFixture(overrides: Partial<ModelMetrics> = {}): ModelMetrics {
  return {
    rows: 1000,
    baseRate: 0.2,
    auc: 0.7,
    logLoss: 0.45,
    accuracy: 0.8,
    precision: 0.5,
    recall: 0.4,
    threshold: 0.5,
    ece: 0.02,
    ...overrides,
  };
}

/**
 * A hand-made evaluation of a 1000-row test split (2024-03-01..10) for the gate tests: `overall`
 * metrics, and per segment either its metrics (300 rows, 60 positives) or, as a string, the note of
 * a segment that could not be evaluated (12 rows, 0 positives).
 */
export function evaluationFixture(
  overall: Partial<ModelMetrics> = {},
  segments: Record<string, Partial<ModelMetrics> | string> = {},
): Evaluation {
  return {
    split: 'test',
    from: '2024-03-01',
    to: '2024-03-10',
    rows: 1000,
    overall: metricsFixture(overall),
    calibration: [],
    segments: Object.entries(segments).map(([name, m]): SegmentEvaluation =>
      typeof m === 'string'
        ? { name, rows: 12, positives: 0, note: m }
        : { name, rows: 300, positives: 60, metrics: metricsFixture(m) },
    ),
  };
}
