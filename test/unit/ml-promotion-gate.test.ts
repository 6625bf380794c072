import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Evaluation } from '../../src/ml/evaluation';
import { comparePromotion } from '../../src/ml/promotion-gate';
import type { ModelSpec } from '../../src/specs/model-schema';
import { evaluationFixture as evaluation } from './ml-fixtures';

const CRITERIA: ModelSpec['promotion'] = {
  metric: 'auc',
  minImprovement: 0.002,
  maxSegmentDegradation: 0.01,
  minLiftOverBaseline: 0.05,
};
const production = (e: Evaluation) => ({ kind: 'production' as const, version: 3, evaluation: e });
const baseline = (e: Evaluation) => ({ kind: 'baseline' as const, evaluation: e });

describe('promotion gate against production', () => {
  it('passes a candidate better by the margin with no segment degraded too far', () => {
    const c = comparePromotion(
      evaluation({ auc: 0.69 }, { hub: { auc: 0.66 }, rest: { auc: 0.695 } }),
      production(evaluation({ auc: 0.68 }, { hub: { auc: 0.665 }, rest: { auc: 0.69 } })),
      CRITERIA,
    );
    assert.equal(c.passed, true);
    assert.equal(c.against, 'production');
    assert.equal(c.referenceVersion, 3);
    assert.equal(c.rows.length, 3);
    assert.ok(c.rows.every((r) => r.verdict === 'pass'));
    const overall = c.rows[0]!;
    assert.equal(overall.scope, 'overall');
    assert.equal(overall.required, '>= +0.002 vs production');
    assert.ok(Math.abs(overall.difference! - 0.01) < 1e-12);
    assert.equal(c.rows[1]!.required, '>= -0.01 vs production');
    assert.equal(
      c.summary,
      'auc 0.6900 vs production v3 0.6800 (+0.0100, needs +0.002); 2 segment(s) within tolerance 0.01',
    );
  });

  it('fails a candidate short of the margin, and names it', () => {
    const c = comparePromotion(evaluation({ auc: 0.6712 }), production(evaluation({ auc: 0.671 })), CRITERIA);
    assert.equal(c.passed, false);
    assert.equal(c.rows[0]!.verdict, 'fail');
    assert.equal(c.summary, 'auc 0.6712 vs production v3 0.6710 (+0.0002, needs +0.002)');
  });

  it('passes an improvement exactly at the margin despite float subtraction', () => {
    const c = comparePromotion(evaluation({ auc: 0.6712 }), production(evaluation({ auc: 0.671 })), {
      ...CRITERIA,
      minImprovement: 0.0002,
    });
    assert.equal(c.passed, true);
  });

  it('fails on a segment degraded beyond the tolerance even when overall improves', () => {
    const c = comparePromotion(
      evaluation({ auc: 0.7 }, { hub_origin: { auc: 0.65 }, rest: { auc: 0.72 } }),
      production(evaluation({ auc: 0.68 }, { hub_origin: { auc: 0.665 }, rest: { auc: 0.7 } })),
      CRITERIA,
    );
    assert.equal(c.passed, false);
    assert.deepEqual(
      c.rows.map((r) => [r.scope, r.verdict]),
      [
        ['overall', 'pass'],
        ['hub_origin', 'fail'],
        ['rest', 'pass'],
      ],
    );
    assert.equal(c.summary, 'segment hub_origin auc -0.0150 (tolerance 0.01)');
  });

  it('names every failure in one line', () => {
    const c = comparePromotion(
      evaluation({ auc: 0.6712 }, { hub_origin: { auc: 0.65 } }),
      production(evaluation({ auc: 0.671 }, { hub_origin: { auc: 0.665 } })),
      CRITERIA,
    );
    assert.equal(
      c.summary,
      'auc 0.6712 vs production v3 0.6710 (+0.0002, needs +0.002); segment hub_origin auc -0.0150 (tolerance 0.01)',
    );
  });

  it('reads logLoss as lower-is-better', () => {
    const criteria = { ...CRITERIA, metric: 'logLoss' as const };
    const better = comparePromotion(
      evaluation({ logLoss: 0.44 }, { hub: { logLoss: 0.5 } }),
      production(evaluation({ logLoss: 0.45 }, { hub: { logLoss: 0.495 } })),
      criteria,
    );
    assert.equal(better.passed, true, better.summary);
    assert.equal(better.rows[0]!.required, '<= -0.002 vs production');
    assert.equal(better.rows[1]!.required, '<= +0.01 vs production');
    assert.ok(better.rows[0]!.difference! < 0);

    const worse = comparePromotion(
      evaluation({ logLoss: 0.46 }, { hub: { logLoss: 0.52 } }),
      production(evaluation({ logLoss: 0.45 }, { hub: { logLoss: 0.5 } })),
      criteria,
    );
    assert.equal(worse.passed, false);
    assert.equal(
      worse.summary,
      'logLoss 0.4600 vs production v3 0.4500 (+0.0100, needs -0.002); segment hub logLoss +0.0200 (tolerance 0.01)',
    );
  });

  it('reads ece as lower-is-better', () => {
    const criteria = { ...CRITERIA, metric: 'ece' as const, minImprovement: 0 };
    assert.equal(
      comparePromotion(evaluation({ ece: 0.01 }), production(evaluation({ ece: 0.02 })), criteria).passed,
      true,
    );
    assert.equal(
      comparePromotion(evaluation({ ece: 0.03 }), production(evaluation({ ece: 0.02 })), criteria).passed,
      false,
    );
  });

  it('fails a segment production has metrics for and the candidate has none for', () => {
    const c = comparePromotion(
      evaluation({ auc: 0.7 }, { tiny: 'only one class (0 positives of 12 rows)' }),
      production(evaluation({ auc: 0.68 }, { tiny: { auc: 0.6 } })),
      CRITERIA,
    );
    assert.equal(c.passed, false);
    assert.deepEqual(c.rows[1], {
      scope: 'tiny',
      metric: 'auc',
      candidate: null,
      reference: 0.6,
      difference: null,
      required: '>= -0.01 vs production',
      verdict: 'fail',
    });
    assert.equal(c.summary, 'segment tiny: no candidate auc (only one class (0 positives of 12 rows))');
  });

  it('fails a segment missing from the candidate evaluation altogether', () => {
    const c = comparePromotion(
      evaluation({ auc: 0.7 }),
      production(evaluation({ auc: 0.68 }, { gone: { auc: 0.6 } })),
      CRITERIA,
    );
    assert.equal(c.passed, false);
    assert.equal(c.summary, 'segment gone: no candidate auc (not evaluated)');
  });

  it('shows but does not gate a segment production has no metrics for', () => {
    const c = comparePromotion(
      evaluation({ auc: 0.7 }, { tiny: { auc: 0.4 } }),
      production(evaluation({ auc: 0.68 }, { tiny: 'only one class (0 positives of 12 rows)' })),
      CRITERIA,
    );
    assert.equal(c.passed, true);
    assert.deepEqual(c.rows[1], {
      scope: 'tiny',
      metric: 'auc',
      candidate: 0.4,
      reference: null,
      difference: null,
      required: 'not gated: no production metrics',
      verdict: 'pass',
    });
  });

  it('refuses to compare evaluations of different rows', () => {
    const other = { ...evaluation({ auc: 0.68 }), rows: 999 };
    assert.throws(
      () => comparePromotion(evaluation({ auc: 0.7 }), production(other), CRITERIA),
      /different rows: candidate test 2024-03-01\.\.2024-03-10 \(1000 rows\), reference .*\(999 rows\)/,
    );
  });
});

describe('promotion gate for a first model', () => {
  it('passes with enough lift over the baseline; segments are informational', () => {
    const c = comparePromotion(
      evaluation({ auc: 0.62 }, { hub: { auc: 0.4 } }),
      baseline(evaluation({ auc: 0.5 }, { hub: { auc: 0.5 } })),
      CRITERIA,
    );
    assert.equal(c.passed, true);
    assert.equal(c.against, 'baseline');
    assert.equal('referenceVersion' in c, false);
    assert.equal(c.rows[0]!.required, '>= +0.05 vs baseline');
    assert.equal(c.rows[1]!.required, 'informational');
    assert.equal(c.rows[1]!.verdict, 'pass');
    assert.ok(Math.abs(c.rows[1]!.difference! + 0.1) < 1e-12);
    assert.equal(c.summary, 'auc 0.6200 vs baseline 0.5000 (+0.1200, needs +0.05)');
  });

  it('fails with too little lift', () => {
    const c = comparePromotion(evaluation({ auc: 0.53 }), baseline(evaluation({ auc: 0.5 })), CRITERIA);
    assert.equal(c.passed, false);
    assert.equal(c.summary, 'auc 0.5300 vs baseline 0.5000 (+0.0300, needs +0.05)');
  });

  it('does not fail on a segment without candidate metrics', () => {
    const c = comparePromotion(
      evaluation({ auc: 0.62 }, { tiny: 'no rows' }),
      baseline(evaluation({ auc: 0.5 }, { tiny: 'no rows' })),
      CRITERIA,
    );
    assert.equal(c.passed, true);
    assert.equal(c.rows[1]!.verdict, 'pass');
  });
});
