import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, auc, baseRate, calibration, evaluate, logLoss, precisionRecallAt } from '../../src/ml/metrics';
import { lcg } from './ml-fixtures';

/*
 * sklearn reference values (scikit-learn 1.9.1):
 *
 *   import math
 *   from sklearn.metrics import roc_auc_score, log_loss
 *   labels = [0,1,1,0,1,0,0,1,1,0,1,0]
 *   scores = [0.1,0.4,0.35,0.8,0.4,0.1,0.35,0.8,0.9,0.2,0.65,0.4]
 *   print(roc_auc_score(labels, scores), log_loss(labels, scores))   # 0.8055555555555556 0.5522168005194904
 *   s = 777
 *   def u():
 *       global s
 *       s = (s * 1664525 + 1013904223) % 2**32
 *       return s / 2**32
 *   L, S = [], []
 *   for i in range(60):
 *       sc = (math.floor(u() * 10) + 0.5) / 11
 *       S.append(sc); L.append(1 if u() < sc else 0)
 *   print(sum(L), roc_auc_score(L, S), log_loss(L, S))                # 20 0.849375 0.49072198647926213
 */
const SMALL_LABELS = Uint8Array.of(0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0);
const SMALL_SCORES = Float64Array.of(0.1, 0.4, 0.35, 0.8, 0.4, 0.1, 0.35, 0.8, 0.9, 0.2, 0.65, 0.4);

/** 60 rows, scores on 10 levels (many ties), labels drawn with those probabilities. */
function tiedSample(): { labels: Uint8Array; scores: Float64Array } {
  const u = lcg(777);
  const labels = new Uint8Array(60);
  const scores = new Float64Array(60);
  for (let i = 0; i < 60; i++) {
    scores[i] = (Math.floor(u() * 10) + 0.5) / 11;
    labels[i] = u() < scores[i]! ? 1 : 0;
  }
  return { labels, scores };
}

/** O(n^2) definition: share of (positive, negative) pairs ordered right, ties counting 1/2. */
function pairwiseAuc(labels: Uint8Array, scores: Float64Array): number {
  let wins = 0;
  let pairs = 0;
  labels.forEach((yi, i) => {
    labels.forEach((yj, j) => {
      if (yi !== 1 || yj !== 0) return;
      pairs++;
      wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

describe('auc', () => {
  it('matches a hand count with ties', () => {
    // Positives' scores 0.4, 0.35, 0.4, 0.8, 0.9, 0.65 against negatives 0.1, 0.8, 0.1, 0.35, 0.2, 0.4:
    // negatives below (+ half the tied) = 4.5 + 3.5 + 4.5 + 5.5 + 6 + 5 = 29 of 36 pairs.
    assert.equal(auc(SMALL_LABELS, SMALL_SCORES), 29 / 36);
  });

  it("matches sklearn's roc_auc_score", () => {
    assert.ok(Math.abs(auc(SMALL_LABELS, SMALL_SCORES) - 0.8055555555555556) < 1e-15);
    const { labels, scores } = tiedSample();
    assert.equal(baseRate(labels), 20 / 60, 'the generated sample is the one sklearn saw');
    assert.ok(Math.abs(auc(labels, scores) - 0.849375) < 1e-15);
  });

  it('agrees with the pairwise definition on a larger tied sample', () => {
    const u = lcg(99);
    const scores = Float64Array.from({ length: 500 }, () => Math.floor(u() * 20) / 20);
    const labels = Uint8Array.from(scores, (s) => (u() < s ? 1 : 0));
    assert.ok(Math.abs(auc(labels, scores) - pairwiseAuc(labels, scores)) < 1e-12);
  });

  it('is 1 for a perfect ranking, 0 for a reversed one, 0.5 when all scores tie', () => {
    const labels = Uint8Array.of(0, 0, 1, 1);
    assert.equal(auc(labels, Float64Array.of(0.1, 0.2, 0.3, 0.4)), 1);
    assert.equal(auc(labels, Float64Array.of(0.4, 0.3, 0.2, 0.1)), 0);
    assert.equal(auc(labels, Float64Array.of(0.5, 0.5, 0.5, 0.5)), 0.5);
  });

  it('rejects one-class labels, NaN scores and mismatched lengths', () => {
    assert.throws(() => auc(Uint8Array.of(1, 1), Float64Array.of(0.2, 0.3)), /both classes/);
    assert.throws(() => auc(Uint8Array.of(0, 1), Float64Array.of(NaN, 0.3)), /NaN/);
    assert.throws(() => auc(Uint8Array.of(0, 1), Float64Array.of(0.3)), /1 scores for 2 labels/);
  });
});

describe('logLoss', () => {
  it("matches sklearn's log_loss", () => {
    assert.ok(Math.abs(logLoss(SMALL_LABELS, SMALL_SCORES) - 0.5522168005194904) < 1e-15);
    const { labels, scores } = tiedSample();
    assert.ok(Math.abs(logLoss(labels, scores) - 0.49072198647926213) < 1e-15);
  });

  it('clips probabilities to [1e-15, 1 - 1e-15] so confident misses stay finite', () => {
    // Each row costs -ln(1e-15) = 34.538776394910684; 1 - 1e-15 rounds, hence the tolerance.
    const loss = logLoss(Uint8Array.of(1, 0), Float64Array.of(0, 1));
    assert.ok(Math.abs(loss - 34.538776394910684) < 1e-3, `${loss}`);
    assert.ok(logLoss(Uint8Array.of(1, 0), Float64Array.of(1, 0)) < 1e-14);
  });
});

// Hand case: 8 rows, 4 bins of width 0.25.
const CAL_LABELS = Uint8Array.of(0, 1, 0, 1, 1, 1, 0, 1);
const CAL_SCORES = Float64Array.of(0.1, 0.2, 0.3, 0.6, 0.7, 0.9, 0.95, 1.0);

describe('precisionRecallAt and accuracy', () => {
  it('counts a hand case, a score equal to the threshold predicting positive', () => {
    // >= 0.6: rows 0.6, 0.7, 0.9, 0.95, 1.0 -> labels 1, 1, 1, 0, 1; below: 0.1, 0.2, 0.3 -> 0, 1, 0.
    assert.deepEqual(precisionRecallAt(CAL_LABELS, CAL_SCORES, 0.6), {
      threshold: 0.6,
      truePositives: 4,
      falsePositives: 1,
      trueNegatives: 2,
      falseNegatives: 1,
      precision: 0.8,
      recall: 0.8,
    });
    const strict = precisionRecallAt(CAL_LABELS, CAL_SCORES, 0.65); // 0.6 drops out
    assert.deepEqual([strict.truePositives, strict.falseNegatives, strict.precision, strict.recall], [3, 2, 0.75, 0.6]);
    assert.equal(accuracy(CAL_LABELS, CAL_SCORES), 6 / 8);
  });

  it('reports 0 precision when nothing is predicted positive', () => {
    const c = precisionRecallAt(CAL_LABELS, CAL_SCORES, 1.1);
    assert.deepEqual([c.truePositives, c.falsePositives, c.precision, c.recall], [0, 0, 0, 0]);
  });
});

describe('calibration', () => {
  it('bins a hand case and weights the ECE by bin counts', () => {
    const { bins, ece } = calibration(CAL_LABELS, CAL_SCORES, 4);
    const rounded = bins.map((b) => ({
      ...b,
      meanPredicted: +b.meanPredicted!.toFixed(12),
      observedRate: +b.observedRate!.toFixed(12),
    }));
    assert.deepEqual(rounded, [
      { lower: 0, upper: 0.25, count: 2, meanPredicted: 0.15, observedRate: 0.5 },
      { lower: 0.25, upper: 0.5, count: 1, meanPredicted: 0.3, observedRate: 0 },
      { lower: 0.5, upper: 0.75, count: 2, meanPredicted: 0.65, observedRate: 1 },
      { lower: 0.75, upper: 1, count: 3, meanPredicted: 0.95, observedRate: +(2 / 3).toFixed(12) }, // 1.0 lands in the last bin
    ]);
    // (2 x 0.35 + 1 x 0.3 + 2 x 0.35 + 3 x (0.95 - 2/3)) / 8 = 0.31875
    assert.ok(Math.abs(ece - 0.31875) < 1e-12, `ece ${ece}`);
  });

  it('leaves empty bins out of the ECE and marks them null', () => {
    const { bins, ece } = calibration(Uint8Array.of(0, 1), Float64Array.of(0.05, 0.95));
    assert.equal(bins.length, 10);
    assert.deepEqual(
      bins.filter((b) => b.count === 0).map((b) => b.meanPredicted),
      Array(8).fill(null),
    );
    assert.ok(Math.abs(ece - 0.05) < 1e-12);
  });

  it('rejects scores outside [0, 1]', () => {
    assert.throws(() => calibration(Uint8Array.of(0), Float64Array.of(1.5)), /\[0, 1\]/);
  });
});

describe('evaluate', () => {
  it('collects the headline metrics', () => {
    const m = evaluate(SMALL_LABELS, SMALL_SCORES, 0.5);
    assert.equal(m.rows, 12);
    assert.equal(m.baseRate, 0.5);
    assert.equal(m.auc, 29 / 36);
    assert.equal(m.logLoss, logLoss(SMALL_LABELS, SMALL_SCORES));
    // >= 0.5: 0.8 (0), 0.8 (1), 0.9 (1), 0.65 (1) -> TP 3, FP 1; FN 3 (0.4, 0.35, 0.4); TN 5.
    assert.deepEqual([m.precision, m.recall, m.accuracy], [0.75, 0.5, 8 / 12]);
    assert.equal(m.ece, calibration(SMALL_LABELS, SMALL_SCORES).ece);
  });
});
