import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { binCounts, decileBins, decileEdges } from '../../src/stats/binning';
import { PSI_EPSILON, psiCategorical, psiFromCounts, psiNumeric } from '../../src/stats/psi';
import { C1, C3, N1, assertClose } from './drift-vectors';

describe('decile bins', () => {
  it('gives N1 its type-7 edges and bin counts', () => {
    const expected = [2.9, 4.8, 6.7, 8.6, 10.5, 12.4, 14.3, 16.2, 18.1];
    const bins = decileBins(N1.reference, N1.current);
    assert.equal(bins.edges.length, 9);
    expected.forEach((edge, i) => assertClose(bins.edges[i], edge, 1e-9, `edge ${i}`));
    assert.deepEqual([...bins.reference], [2, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
    assert.deepEqual([...bins.current], [2, 2, 1, 2, 1, 2, 1, 2, 1, 6]);
  });

  it('closes bins on the right: a value equal to an edge belongs to the bin that edge ends', () => {
    // Reference 0..10: h = k exactly, so the edges are the integers 1..9 and data sit on them.
    const reference = Float64Array.from({ length: 11 }, (_, i) => i);
    const edges = decileEdges(reference);
    assert.deepEqual([...edges], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual([...binCounts(reference, edges)], [2, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    assert.deepEqual(
      [...binCounts(Float64Array.of(-1e9, 1, 1.0000001, 9, 9.5, 1e9), edges)],
      [2, 1, 0, 0, 0, 0, 0, 0, 1, 2],
    );
  });

  it('interpolates between order statistics and does not sort the caller’s array', () => {
    const reference = Float64Array.of(10, 0); // sorted: 0, 10; h = 0.1k
    const edges = decileEdges(reference);
    [1, 2, 3, 4, 5, 6, 7, 8, 9].forEach((k, i) => assertClose(edges[i], k, 1e-12));
    assert.deepEqual([...reference], [10, 0]);
  });

  it('rejects empty samples and NaN', () => {
    assert.throws(() => decileEdges(new Float64Array(0)), RangeError);
    assert.throws(() => decileBins(N1.reference, new Float64Array(0)), RangeError);
    assert.throws(() => binCounts(Float64Array.of(1, NaN), Float64Array.of(0)), RangeError);
  });
});

describe('PSI: vectors', () => {
  it('N1 (no empty bin, so no smoothing) is 0.2 ln 6 = 0.358351893846', () => {
    assertClose(psiNumeric(N1.reference, N1.current), 0.358351893846);
    assertClose(psiNumeric(N1.reference, N1.current), 0.2 * Math.log(6), 1e-14);
  });

  it('C1 is 0.0628608659422 and C3 0.0969940747388', () => {
    assertClose(psiCategorical(C1.reference, C1.current), 0.0628608659422);
    assertClose(psiCategorical(C3.reference, C3.current), 0.0969940747388);
  });

  it('is 0 for identical distributions and symmetric', () => {
    assert.equal(psiFromCounts(Float64Array.of(2, 4, 6), Float64Array.of(1, 2, 3)), 0);
    assertClose(psiCategorical(C1.current, C1.reference), psiCategorical(C1.reference, C1.current), 1e-15);
  });
});

describe('PSI: empty bins', () => {
  it('gives an empty bin the share PSI_EPSILON, then renormalises that side only', () => {
    const r = [0.5, 0.5];
    const c = [1 / (1 + PSI_EPSILON), PSI_EPSILON / (1 + PSI_EPSILON)];
    const expected = (r[0] - c[0]) * Math.log(r[0] / c[0]) + (r[1] - c[1]) * Math.log(r[1] / c[1]);
    assertClose(psiFromCounts(Float64Array.of(5, 5), Float64Array.of(10, 0)), expected, 1e-14);
    assert.ok(expected > 4 && expected < 5, `a vanished bin is a large shift (${expected})`);
  });

  it('applies the same rule to the reference side (a category it never saw)', () => {
    const r = [0.5 / (1 + PSI_EPSILON), 0.5 / (1 + PSI_EPSILON), PSI_EPSILON / (1 + PSI_EPSILON)];
    const c = [0.5, 0.25, 0.25];
    const expected = r.reduce((sum, ri, i) => sum + (ri - c[i]) * Math.log(ri / c[i]), 0);
    const psi = psiCategorical(
      new Map([
        ['A', 10],
        ['B', 10],
      ]),
      new Map([
        ['A', 10],
        ['B', 5],
        ['C', 5],
      ]),
    );
    assertClose(psi, expected, 1e-14);
  });

  it('drops a bin empty on both sides instead of smoothing it', () => {
    assert.equal(
      psiFromCounts(Float64Array.of(2, 0, 3), Float64Array.of(3, 0, 2)),
      psiFromCounts(Float64Array.of(2, 3), Float64Array.of(3, 2)),
    );
  });

  it('rejects counts over different bins or with nothing in them', () => {
    assert.throws(() => psiFromCounts(Float64Array.of(1, 2), Float64Array.of(1, 2, 3)), RangeError);
    assert.throws(() => psiFromCounts(Float64Array.of(0, 0), Float64Array.of(1, 2)), RangeError);
    assert.throws(() => psiCategorical(new Map([['A', -1]]), new Map([['A', 1]])), RangeError);
  });
});
