import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkMatrix, rangeView, rowRange, type FeatureMatrix } from '../../src/ml/feature-matrix';

/** Rows on the given day indexes, one feature holding the row number, labels alternating. */
function matrix(dayOfRow: number[], days = ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-05']): FeatureMatrix {
  const rows = dayOfRow.length;
  return {
    features: ['x'],
    segments: ['even'],
    rows,
    columns: [Float64Array.from(dayOfRow, (_, i) => i)],
    labels: Uint8Array.from(dayOfRow, (_, i) => i % 2),
    days,
    dayIndex: Uint16Array.from(dayOfRow),
    segmentMasks: [Uint8Array.from(dayOfRow, (_, i) => (i % 2 === 0 ? 1 : 0))],
  };
}

describe('feature matrix', () => {
  it('finds the rows of a day range on sorted rows', () => {
    const m = matrix([0, 0, 1, 1, 1, 2, 3, 3]);
    assert.deepEqual(rowRange(m, '2024-01-01', '2024-01-05'), { start: 0, end: 8 });
    assert.deepEqual(rowRange(m, '2024-01-02', '2024-01-03'), { start: 2, end: 6 });
    assert.deepEqual(rowRange(m, '2024-01-02', '2024-01-02'), { start: 2, end: 5 });
    // Bounds need not be days of the matrix: 01-04 is missing, so 01-04..01-05 is the last day.
    assert.deepEqual(rowRange(m, '2024-01-04', '2024-01-31'), { start: 6, end: 8 });
    assert.deepEqual(rowRange(m, '2023-12-01', '2024-01-01'), { start: 0, end: 2 });
  });

  it('returns an empty range when no day falls inside', () => {
    const m = matrix([0, 1, 3]);
    assert.deepEqual(rowRange(m, '2024-01-04', '2024-01-04'), { start: 2, end: 2 });
    assert.deepEqual(rowRange(m, '2025-01-01', '2025-12-31'), { start: 3, end: 3 });
    assert.deepEqual(rowRange(matrix([], []), '2024-01-01', '2024-01-02'), { start: 0, end: 0 });
  });

  it('handles a day with no rows between days with rows', () => {
    // Day 2 (01-03) is listed but has no rows.
    const m = matrix([0, 1, 1, 3]);
    assert.deepEqual(rowRange(m, '2024-01-03', '2024-01-03'), { start: 3, end: 3 });
    assert.deepEqual(rowRange(m, '2024-01-02', '2024-01-03'), { start: 1, end: 3 });
  });

  it('refuses unsorted rows and reversed ranges', () => {
    assert.throws(() => rowRange(matrix([0, 2, 1]), '2024-01-01', '2024-01-05'), /not sorted by day: row 2/);
    assert.throws(() => rowRange(matrix([0, 1]), '2024-01-02', '2024-01-01'), /reversed/);
    assert.throws(() => rowRange(matrix([0, 4]), '2024-01-01', '2024-01-05'), /day index 4, but there are 4 days/);
  });

  it('gives subarray views of a range, not copies', () => {
    const m = matrix([0, 0, 1, 1, 2]);
    const view = rangeView(m, { start: 1, end: 4 });
    assert.deepEqual([...view.columns[0]!], [1, 2, 3]);
    assert.deepEqual([...view.labels], [1, 0, 1]);
    assert.equal(view.columns[0]!.buffer, m.columns[0]!.buffer);
    assert.equal(view.labels.buffer, m.labels.buffer);
    assert.throws(() => rangeView(m, { start: 3, end: 6 }), /outside the matrix's 5 rows/);
    assert.throws(() => rangeView(m, { start: 3, end: 2 }), /outside/);
  });

  it('checks shapes, 0/1 values and day order', () => {
    assert.doesNotThrow(() => checkMatrix(matrix([0, 1, 1, 3])));
    assert.throws(() => checkMatrix({ ...matrix([0, 1]), labels: Uint8Array.of(0, 2) }), /label 1 is 2/);
    assert.throws(
      () => checkMatrix({ ...matrix([0, 1]), labels: Uint8Array.of(0) }),
      /labels have 1 values, expected 2/,
    );
    assert.throws(
      () => checkMatrix({ ...matrix([0, 1]), segmentMasks: [Uint8Array.of(1, 3)] }),
      /segment even mask 1 is 3/,
    );
    assert.throws(() => checkMatrix({ ...matrix([0, 1]), segmentMasks: [] }), /0 segment masks for 1 segments/);
    assert.throws(
      () => checkMatrix({ ...matrix([0, 1]), columns: [Float64Array.of(1)] }),
      /feature column 0 has 1 values/,
    );
    assert.throws(() => checkMatrix(matrix([0, 1], ['2024-01-02', '2024-01-01'])), /distinct and ascending/);
    assert.throws(() => checkMatrix(matrix([1, 0])), /not sorted by day/);
  });

  it('tolerates NaN feature values', () => {
    const m = matrix([0, 1]);
    m.columns[0]![1] = NaN;
    assert.doesNotThrow(() => checkMatrix(m));
  });
});
