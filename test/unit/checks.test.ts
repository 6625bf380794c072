import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { summarizeChecks, type Check } from '../../src/quality/check';
import { biasChecks } from '../../src/ml/bias-gate';
import { promotionChecks } from '../../src/ml/promotion-gate';

/** Every gate of every pipeline speaks one Check: the alert's observed/expected and the summaries read it. */
describe('one check type for data, feature, training and model gates', () => {
  const check = (over: Partial<Check>): Check => ({
    gate: 'volume',
    subject: 'dataset',
    observed: 'rows 10',
    expected: '>= 20',
    verdict: 'fail',
    severity: 'blocking',
    detail: 'rows 10 < 20',
    ...over,
  });

  it('summarizes the failed checks of one severity, naming the subject unless it is the dataset', () => {
    const checks = [
      check({}),
      check({ gate: 'nulls', subject: 'origin_delay_share_7d', detail: 'null share 0.4 > 0.1' }),
      check({ gate: 'distribution', subject: 'delay', severity: 'warning', detail: 'PSI 0.3 > 0.25' }),
      check({ gate: 'rows', subject: 'input', verdict: 'pass' }),
    ];
    assert.equal(summarizeChecks(checks), 'volume: rows 10 < 20; nulls(origin_delay_share_7d): null share 0.4 > 0.1');
    assert.equal(summarizeChecks(checks, 'warning'), 'distribution(delay): PSI 0.3 > 0.25');
  });

  it("the bias gate's rows become checks, an unmeasurable segment failing with its reason", () => {
    const checks = biasChecks({
      passed: false,
      summary: 'segment long_haul: no metrics',
      rows: [
        { segment: 'hub_origin', metric: 'auc', value: 0.61234, bound: '>= 0.52', verdict: 'pass' },
        { segment: 'long_haul', metric: 'auc', value: null, bound: '>= 0.52', verdict: 'fail' },
      ],
    });
    assert.deepEqual(
      checks.map((c) => [c.gate, c.subject, c.observed, c.expected, c.verdict]),
      [
        ['bias', 'hub_origin', 'auc 0.6123', 'auc >= 0.52', 'pass'],
        ['bias', 'long_haul', 'auc not measurable', 'auc >= 0.52', 'fail'],
      ],
    );
    assert.equal(summarizeChecks(checks), 'bias(long_haul): long_haul auc not measurable, expected >= 0.52');
  });

  it("the promotion gate's rows become checks, the candidate against what it was compared with", () => {
    const [row] = promotionChecks({
      against: 'production',
      referenceVersion: 1,
      passed: false,
      summary: 'overall auc +0.0010 (needs +0.002)',
      rows: [
        {
          scope: 'overall',
          metric: 'auc',
          candidate: 0.7011,
          reference: 0.7001,
          difference: 0.001,
          required: '>= +0.002 vs production',
          verdict: 'fail',
        },
      ],
    });
    assert.deepEqual(row, {
      gate: 'promotion',
      subject: 'overall',
      observed: 'auc 0.7011 vs 0.7001 (production)',
      expected: '>= +0.002 vs production',
      verdict: 'fail',
      severity: 'blocking',
      detail: 'overall auc 0.7011 vs 0.7001 (production), required >= +0.002 vs production',
    });
  });
});
