import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareShadow } from '../../src/monitoring/shadow-comparison';

describe('compareShadow', () => {
  it('measures agreement at the threshold, the mean shift and both AUCs on labelled rows, per shadow version', () => {
    const rows = [
      { score: 0.9, shadow: { version: 3, score: 0.1 }, label: 1 as const },
      { score: 0.2, shadow: { version: 3, score: 0.8 }, label: 0 as const },
      { score: 0.6, shadow: { version: 3, score: 0.7 }, label: null },
      { score: 0.4 }, // no shadow ran: not compared
      { score: 0.5, shadow: { version: 2, score: 0.5 }, label: 1 as const },
    ].map((r) => ({ label: null, ...r }));
    const [v2, v3] = compareShadow(rows, 0.5);
    assert.deepEqual(v2, { version: 2, rows: 1, agreement: 1, meanShift: 0, maxAbsDifference: 0, labelled: 1 });
    assert.equal(v3!.version, 3);
    assert.equal(v3!.rows, 3);
    assert.equal(v3!.agreement, 1 / 3, 'only the third row is called the same at 0.5');
    assert.ok(Math.abs(v3!.meanShift - (1.6 - 1.7) / 3) < 1e-12);
    assert.ok(Math.abs(v3!.maxAbsDifference - 0.8) < 1e-12);
    assert.equal(v3!.labelled, 2);
    assert.deepEqual(v3!.auc, { production: 1, shadow: 0 }, 'the shadow ranks the labelled rows the wrong way round');
  });

  it('compares nothing when no row was scored in shadow', () => {
    assert.deepEqual(compareShadow([{ score: 0.3, label: 1 }], 0.5), []);
  });
});
