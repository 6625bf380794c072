import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { auc } from '../../src/ml/metrics';
import { WindowPredictions } from '../../src/monitoring/window-predictions';

describe('WindowPredictions', () => {
  it('counts every prediction of a day, labelled or not, and judges the labelled ones', () => {
    const w = new WindowPredictions();
    // Day 2: four predictions, the third still without its label.
    w.add('2001-03-02', 0.9, 1);
    w.add('2001-03-02', 0.2, 0);
    w.add('2001-03-02', 0.7, null);
    w.add('2001-03-02', 0.4, 1);
    // Day 1, added later: one labelled prediction.
    w.add('2001-03-01', 0.6, 0);
    const [first, second] = w.byDay();
    assert.deepEqual(first, {
      day: '2001-03-01',
      predictions: 1,
      labelled: 1,
      auc: null,
      meanScore: 0.6,
      positiveRate: 0,
    });
    assert.equal(second!.day, '2001-03-02');
    assert.equal(second!.predictions, 4);
    assert.equal(second!.labelled, 3);
    assert.equal(second!.auc, auc(Uint8Array.from([1, 0, 1]), Float64Array.from([0.9, 0.2, 0.4])));
    assert.ok(Math.abs(second!.meanScore - 2.2 / 4) < 1e-12, 'the mean score is over every prediction of the day');
    assert.equal(second!.positiveRate, 2 / 3);
  });

  it('keeps the labelled predictions for the overall metrics, in the order added', () => {
    const w = new WindowPredictions();
    w.add('2001-03-02', 0.9, 1);
    w.add('2001-03-01', 0.5, null);
    w.add('2001-03-01', 0.3, 0);
    assert.deepEqual(w.labels, [1, 0]);
    assert.deepEqual(w.scores, [0.9, 0.3]);
  });

  it('shows a day whose labels have not arrived, with no AUC and no positive rate', () => {
    const w = new WindowPredictions();
    w.add('2001-03-05', 0.25, null);
    w.add('2001-03-05', 0.75, null);
    assert.deepEqual(w.byDay(), [
      { day: '2001-03-05', predictions: 2, labelled: 0, auc: null, meanScore: 0.5, positiveRate: null },
    ]);
  });

  it('gives no AUC for a day whose labels are all of one class', () => {
    const w = new WindowPredictions();
    w.add('2001-03-06', 0.1, 1);
    w.add('2001-03-06', 0.8, 1);
    assert.equal(w.byDay()[0]!.auc, null);
    assert.equal(w.byDay()[0]!.positiveRate, 1);
  });
});
