import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkBias } from '../../src/ml/bias-gate';
import type { ModelMetrics } from '../../src/ml/metrics';
import { evaluationFixture } from './ml-fixtures';

/** The test split's evaluation with these segments (the bias gate's subject) and overall metrics. */
const evaluation = (segments: Record<string, Partial<ModelMetrics> | string>, overall: Partial<ModelMetrics> = {}) =>
  evaluationFixture(overall, segments);

describe('bias gate', () => {
  it('passes when every segment is within every bound', () => {
    const check = checkBias(evaluation({ hub: { auc: 0.65 }, rest: { auc: 0.72, ece: 0.05 } }), [
      { metric: 'auc', min: 0.6 },
      { metric: 'ece', max: 0.05 },
    ]);
    assert.equal(check.passed, true);
    assert.deepEqual(
      check.rows.map((r) => [r.segment, r.metric, r.value, r.bound, r.verdict]),
      [
        ['hub', 'auc', 0.65, '>= 0.6', 'pass'],
        ['hub', 'ece', 0.02, '<= 0.05', 'pass'],
        ['rest', 'auc', 0.72, '>= 0.6', 'pass'],
        ['rest', 'ece', 0.05, '<= 0.05', 'pass'],
      ],
    );
    assert.equal(check.summary, 'all 2 segments within auc >= 0.6, ece <= 0.05');
  });

  it('fails a segment below a minimum', () => {
    const check = checkBias(evaluation({ hub: { auc: 0.5812 }, rest: { auc: 0.72 } }), [{ metric: 'auc', min: 0.6 }]);
    assert.equal(check.passed, false);
    assert.deepEqual(
      check.rows.map((r) => r.verdict),
      ['fail', 'pass'],
    );
    assert.equal(check.summary, 'segment hub auc 0.5812 below 0.6');
  });

  it('fails a lower-is-better metric above its maximum, and checks two-sided bounds', () => {
    const check = checkBias(evaluation({ hub: { ece: 0.08, recall: 0.95 }, rest: { ece: 0.01, recall: 0.5 } }), [
      { metric: 'ece', max: 0.05 },
      { metric: 'recall', min: 0.3, max: 0.9 },
    ]);
    assert.equal(check.passed, false);
    assert.equal(check.rows[1]!.bound, 'between 0.3 and 0.9');
    assert.equal(check.summary, 'segment hub ece 0.0800 above 0.05; segment hub recall 0.9500 above 0.9');
  });

  it('fails closed on a segment without metrics, with its note', () => {
    const check = checkBias(evaluation({ hub: { auc: 0.7 }, tiny: 'only one class (0 positives of 12 rows)' }), [
      { metric: 'auc', min: 0.6 },
      { metric: 'ece', max: 0.1 },
    ]);
    assert.equal(check.passed, false);
    assert.deepEqual(
      check.rows.filter((r) => r.segment === 'tiny').map((r) => [r.value, r.verdict]),
      [
        [null, 'fail'],
        [null, 'fail'],
      ],
    );
    assert.equal(check.summary, 'segment tiny: no metrics (only one class (0 positives of 12 rows))');
  });

  it('checks the overall metrics when the spec has no segments', () => {
    const pass = checkBias(evaluation({}, { auc: 0.7 }), [{ metric: 'auc', min: 0.6 }]);
    assert.deepEqual(pass.rows, [{ segment: 'overall', metric: 'auc', value: 0.7, bound: '>= 0.6', verdict: 'pass' }]);
    assert.equal(pass.summary, 'overall within auc >= 0.6');
    const fail = checkBias(evaluation({}, { auc: 0.55 }), [{ metric: 'auc', min: 0.6 }]);
    assert.equal(fail.passed, false);
    assert.equal(fail.summary, 'overall auc 0.5500 below 0.6');
  });

  it('passes with no bounds', () => {
    const check = checkBias(evaluation({ tiny: 'no rows' }), []);
    assert.deepEqual(check, { passed: true, rows: [], summary: 'no bias bounds in the spec' });
  });
});
