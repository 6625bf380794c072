import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { histogramPair } from '../../src/monitoring/histogram';

const f64 = (...values: number[]) => Float64Array.from(values);
const sum = (counts: number[]) => counts.reduce((a, b) => a + b, 0);

describe('histogramPair', () => {
  it('spans both samples with shared equal-width edges and counts each side', () => {
    const h = histogramPair(f64(0, 1, 2, 3), f64(2, 4, 6, 8), 4);
    assert.deepEqual(h.edges, [0, 2, 4, 6, 8]);
    assert.deepEqual(h.reference, [2, 2, 0, 0]);
    assert.deepEqual(h.current, [0, 1, 1, 2]); // 8, the maximum, closes the last bin
  });

  it('puts a value on an inner edge in the bin that edge starts', () => {
    const h = histogramPair(f64(0, 5, 10), f64(), 2);
    assert.deepEqual(h.edges, [0, 5, 10]);
    assert.deepEqual(h.reference, [1, 2]);
    assert.deepEqual(h.current, [0, 0]);
  });

  it('defaults to 20 bins and keeps every finite value', () => {
    const reference = Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 100);
    const current = Float64Array.from({ length: 700 }, (_, i) => Math.cos(i) * 50 + 60);
    const h = histogramPair(reference, current);
    assert.equal(h.edges.length, 21);
    assert.equal(h.reference.length, 20);
    assert.equal(sum(h.reference), 1000);
    assert.equal(sum(h.current), 700);
    assert.equal(h.edges[0], Math.min(...reference, ...current));
    assert.equal(h.edges[20], Math.max(...reference, ...current));
  });

  it('ignores NaN and infinities, for the range and the counts', () => {
    const h = histogramPair(f64(NaN, 1, 3, Infinity), f64(-Infinity, 2, NaN), 2);
    assert.deepEqual(h.edges, [1, 2, 3]);
    assert.deepEqual(h.reference, [1, 1]);
    assert.deepEqual(h.current, [0, 1]);
  });

  it('gives a constant column one bin of width 1 around its value', () => {
    const h = histogramPair(f64(7, 7, NaN), f64(7), 20);
    assert.deepEqual(h, { edges: [6.5, 7.5], reference: [2], current: [1] });
  });

  it('gives empty or all-NaN samples one empty bin', () => {
    const empty = { edges: [0, 1], reference: [0], current: [0] };
    assert.deepEqual(histogramPair(f64(), f64()), empty);
    assert.deepEqual(histogramPair(f64(NaN), f64(NaN, NaN)), empty);
  });

  it('bins one side when the other is empty', () => {
    const h = histogramPair(f64(), f64(0, 0.5, 1), 2);
    assert.deepEqual(h, { edges: [0, 0.5, 1], reference: [0, 0], current: [1, 2] });
  });

  it('rejects a bin count that is not a positive integer', () => {
    for (const bins of [0, -1, 2.5, NaN]) assert.throws(() => histogramPair(f64(1), f64(2), bins), RangeError);
  });
});
