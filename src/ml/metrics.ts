/**
 * Evaluation metrics for a binary classifier: labels are 0/1 bytes, scores are predicted
 * probabilities of class 1, row for row. Everything is O(n) except AUC's sorts (O(n log n)).
 */

/** Share of positive labels. */
export function baseRate(labels: Uint8Array): number {
  checkLabels(labels);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i]!;
  return positives / labels.length;
}

/**
 * Area under the ROC curve as the Mann-Whitney U statistic: the probability that a random positive
 * scores above a random negative, a tie counting one half (the same as ranking all scores with
 * tied scores sharing their average rank). Positives' and negatives' scores are sorted apart with
 * the native numeric sort and then merged, which is much faster than sorting an index array with a
 * comparator.
 */
export function auc(labels: Uint8Array, scores: Float64Array): number {
  checkPair(labels, scores);
  const positives = scores.filter((_, i) => labels[i] === 1).sort();
  const negatives = scores.filter((_, i) => labels[i] === 0).sort();
  if (positives.length === 0 || negatives.length === 0) throw new RangeError('AUC needs both classes among the labels');
  let below = 0; // negatives scoring strictly below the current positive
  let belowOrTied = 0; // ... below or equal
  let u = 0;
  for (const s of positives) {
    while (below < negatives.length && negatives[below]! < s) below++;
    if (belowOrTied < below) belowOrTied = below;
    while (belowOrTied < negatives.length && negatives[belowOrTied]! <= s) belowOrTied++;
    u += below + (belowOrTied - below) / 2;
  }
  return u / (positives.length * negatives.length);
}

/** Probabilities are clipped to [1e-15, 1 - 1e-15] so a confident miss costs ~34.5, not Infinity. */
const LOG_LOSS_EPS = 1e-15;

/** Mean negative log-likelihood (natural log). */
export function logLoss(labels: Uint8Array, scores: Float64Array): number {
  checkPair(labels, scores);
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(Math.max(scores[i]!, LOG_LOSS_EPS), 1 - LOG_LOSS_EPS);
    sum -= labels[i] ? Math.log(p) : Math.log1p(-p);
  }
  return sum / labels.length;
}

export interface ConfusionAtThreshold {
  threshold: number;
  truePositives: number;
  falsePositives: number;
  trueNegatives: number;
  falseNegatives: number;
  /** TP / (TP + FP); 0 when nothing is predicted positive (scikit-learn's zero_division default). */
  precision: number;
  /** TP / (TP + FN); 0 when there are no positives. */
  recall: number;
}

/** A row is predicted positive when its score is >= threshold. */
export function precisionRecallAt(labels: Uint8Array, scores: Float64Array, threshold: number): ConfusionAtThreshold {
  checkPair(labels, scores);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const predicted = scores[i]! >= threshold;
    if (labels[i]) predicted ? tp++ : fn++;
    else if (predicted) fp++;
  }
  return {
    threshold,
    truePositives: tp,
    falsePositives: fp,
    trueNegatives: labels.length - tp - fp - fn,
    falseNegatives: fn,
    precision: tp + fp > 0 ? tp / (tp + fp) : 0,
    recall: tp + fn > 0 ? tp / (tp + fn) : 0,
  };
}

/** Share of rows whose thresholded score (>= threshold is positive) equals the label. */
export function accuracy(labels: Uint8Array, scores: Float64Array, threshold = 0.5): number {
  const c = precisionRecallAt(labels, scores, threshold);
  return (c.truePositives + c.trueNegatives) / labels.length;
}

export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean score and share of positives in the bin; null for an empty bin. */
  meanPredicted: number | null;
  observedRate: number | null;
}

export interface Calibration {
  bins: CalibrationBin[];
  /** Expected calibration error: sum over bins of (count / n) * |meanPredicted - observedRate|. */
  ece: number;
}

/** Equal-width bins over [0, 1]: bin k holds scores in [k/B, (k+1)/B), the last bin includes 1. */
export function calibration(labels: Uint8Array, scores: Float64Array, bins = 10): Calibration {
  checkPair(labels, scores);
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  const counts = new Float64Array(bins);
  const scoreSums = new Float64Array(bins);
  const positives = new Float64Array(bins);
  for (let i = 0; i < labels.length; i++) {
    const p = scores[i]!;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`score ${i} is ${p}, calibration needs probabilities in [0, 1]`);
    const k = Math.min(Math.floor(p * bins), bins - 1);
    counts[k]++;
    scoreSums[k] += p;
    positives[k] += labels[i]!;
  }
  let ece = 0;
  const out: CalibrationBin[] = [];
  for (let k = 0; k < bins; k++) {
    const count = counts[k]!;
    const meanPredicted = count > 0 ? scoreSums[k]! / count : null;
    const observedRate = count > 0 ? positives[k]! / count : null;
    if (meanPredicted !== null && observedRate !== null)
      ece += (count / labels.length) * Math.abs(meanPredicted - observedRate);
    out.push({ lower: k / bins, upper: (k + 1) / bins, count, meanPredicted, observedRate });
  }
  return { bins: out, ece };
}

/** The headline numbers stored with a model artifact. */
export interface ModelMetrics {
  rows: number;
  baseRate: number;
  auc: number;
  logLoss: number;
  accuracy: number;
  precision: number;
  recall: number;
  threshold: number;
  ece: number;
}

export function evaluate(labels: Uint8Array, scores: Float64Array, threshold = 0.5): ModelMetrics {
  const at = precisionRecallAt(labels, scores, threshold);
  return {
    rows: labels.length,
    baseRate: baseRate(labels),
    auc: auc(labels, scores),
    logLoss: logLoss(labels, scores),
    accuracy: (at.truePositives + at.trueNegatives) / labels.length,
    precision: at.precision,
    recall: at.recall,
    threshold,
    ece: calibration(labels, scores).ece,
  };
}

function checkLabels(labels: Uint8Array): void {
  if (labels.length === 0) throw new RangeError('metrics need at least one row');
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! > 1) throw new RangeError(`label ${i} is ${labels[i]}, expected 0 or 1`);
  }
}

function checkPair(labels: Uint8Array, scores: Float64Array): void {
  checkLabels(labels);
  if (scores.length !== labels.length) throw new RangeError(`${scores.length} scores for ${labels.length} labels`);
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i]!)) throw new RangeError(`score ${i} is NaN`);
  }
}
