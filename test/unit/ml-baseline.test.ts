import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fitBaseline, predictBaseline } from '../../src/ml/baseline';
import { predict, train } from '../../src/ml/logistic-regression';
import { auc, logLoss } from '../../src/ml/metrics';
import { Standardizer } from '../../src/ml/standardizer';
import { syntheticFlights } from './ml-fixtures';

describe('base-rate baseline', () => {
  it('predicts the training base rate for every row', () => {
    const model = fitBaseline(Uint8Array.of(1, 0, 0, 0, 1, 0, 0, 0, 0, 0));
    assert.deepEqual(model, { kind: 'base-rate', rate: 0.2 });
    assert.deepEqual([...predictBaseline(model, 3)], [0.2, 0.2, 0.2]);
  });

  it('has AUC 0.5 and log loss equal to the entropy of the base rate', () => {
    const { labels } = syntheticFlights(10_000, 5);
    const model = fitBaseline(labels);
    const scores = predictBaseline(model, labels.length);
    const r = model.rate;
    assert.ok(r > 0.05 && r < 0.5, `base rate ${r}`);
    assert.equal(auc(labels, scores), 0.5);
    const entropy = -(r * Math.log(r) + (1 - r) * Math.log(1 - r));
    assert.ok(Math.abs(logLoss(labels, scores) - entropy) < 1e-12);
  });

  it('is beaten by logistic regression on data with signal', async () => {
    const { columns, labels } = syntheticFlights(10_000, 5);
    const x = Standardizer.fit(columns, labels.length).transform(columns, labels.length);
    const model = await train({ columns: x, labels }, { l2: 1e-4, maxIterations: 50, tolerance: 1e-10 });
    const scores = predict(model, x);
    const base = predictBaseline(fitBaseline(labels), labels.length);
    assert.ok(auc(labels, scores) > 0.7, `AUC ${auc(labels, scores)}`);
    assert.ok(logLoss(labels, scores) < logLoss(labels, base) - 0.05);
  });
});
