import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { auc } from '../../src/ml/metrics';
import { segmentPerformance } from '../../src/monitoring/segment-performance';
import type { FeatureMatrix } from '../../src/ml/feature-matrix';

/** Eight rows: the first four are hub rows, rows 3 and 7 have no label yet. */
function matrix(): FeatureMatrix {
  return {
    rows: 8,
    features: ['x', 'prediction'],
    columns: [new Float64Array(8), Float64Array.from([0.9, 0.2, 0.8, 0.1, 0.3, 0.6, 0.4, 0.5])],
    labels: Uint8Array.from([1, 0, 0, 1, 0, 1, 1, 1]),
    days: ['2001-03-01'],
    dayIndex: new Uint16Array(8),
    segments: ['hub', 'quiet', '__labelled'],
    segmentMasks: [
      Uint8Array.from([1, 1, 1, 1, 0, 0, 0, 0]),
      Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 1]),
      Uint8Array.from([1, 1, 1, 0, 1, 1, 1, 0]),
    ],
  } as FeatureMatrix;
}

describe('segmentPerformance', () => {
  it('judges each segment on its labelled rows only, beside the test-split AUC', () => {
    const [hub, quiet] = segmentPerformance(matrix(), '__labelled', 'prediction', { hub: { auc: 0.71 } });
    // Hub rows 0-2 are labelled (row 3 is not): labels 1, 0, 0 with scores 0.9, 0.2, 0.8.
    assert.deepEqual(hub, {
      name: 'hub',
      labelled: 3,
      positives: 1,
      auc: auc(Uint8Array.from([1, 0, 0]), Float64Array.from([0.9, 0.2, 0.8])),
      referenceAuc: 0.71,
    });
    assert.equal(hub!.auc, 1);
    // The quiet segment's only row has no label: no AUC, and no reference either.
    assert.deepEqual(quiet, { name: 'quiet', labelled: 0, positives: 0, auc: null, referenceAuc: null });
  });

  it('leaves the labelled mask itself out of the segments', () => {
    assert.deepEqual(
      segmentPerformance(matrix(), '__labelled', 'prediction', {}).map((s) => s.name),
      ['hub', 'quiet'],
    );
  });

  it('refuses a matrix without the labelled mask or the prediction column', () => {
    assert.throws(() => segmentPerformance(matrix(), '__missing', 'prediction', {}), /lacks the __missing mask/);
    assert.throws(() => segmentPerformance(matrix(), '__labelled', 'score', {}), /or the score column/);
  });
});
