import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { degradedSegments } from '../../src/monitoring/segment-degradation';
import type { SegmentPerformance } from '../../src/monitoring/report-types';

const segment = (
  name: string,
  auc: number | null,
  referenceAuc: number | null,
  labelled = 1000,
): SegmentPerformance => ({ name, labelled, positives: labelled / 4, auc, referenceAuc });

describe('degradedSegments', () => {
  it('names a segment whose AUC fell by more than the allowed drop, and not one within it', () => {
    const found = degradedSegments(
      [segment('hub', 0.55, 0.62), segment('other', 0.6, 0.62), segment('long', 0.7, 0.62)],
      0.05,
      500,
    );
    assert.deepEqual(found, [{ segment: 'hub', auc: 0.55, referenceAuc: 0.62, labelled: 1000 }]);
  });

  it('does not judge a segment with too few labelled rows, one-class labels or no test-split AUC', () => {
    assert.deepEqual(
      degradedSegments(
        [segment('few', 0.4, 0.62, 499), segment('one-class', null, 0.62), segment('new', 0.4, null)],
        0.05,
        500,
      ),
      [],
    );
  });

  it('judges a drop exactly at the bound as within it', () => {
    assert.deepEqual(degradedSegments([segment('edge', 0.5, 0.75)], 0.25, 500), []);
    assert.equal(degradedSegments([segment('edge', 0.5, 0.75)], 0.2499, 500).length, 1);
  });
});
