import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WASSERSTEIN_STD_FLOOR, wassersteinNormed } from '../../src/stats/wasserstein';
import { N1, assertClose, uniforms } from './drift-vectors';

describe('wassersteinNormed', () => {
  it('N1: W1 2.285, reference std 5.76628129734, normed 0.396269256073', () => {
    const result = wassersteinNormed(N1.reference, N1.current);
    assertClose(result.distance, 2.285);
    assertClose(result.referenceStd, 5.76628129734);
    assertClose(result.normed, 0.396269256073);
  });

  it('equals the mean gap between order statistics for equal sizes (an independent formula)', () => {
    const reference = uniforms(500, 1);
    const current = uniforms(500, 2).map((u) => u * u * 3 - 0.5);
    const a = reference.slice().sort();
    const b = current.slice().sort();
    let expected = 0;
    for (let i = 0; i < a.length; i++) expected += Math.abs(a[i] - b[i]) / a.length;
    assertClose(wassersteinNormed(reference, current).distance, expected, 1e-12);
  });

  it('integrates the ECDF gap for unequal sizes and ties', () => {
    // F_ref jumps to 1 at 0; F_cur is 1/2 on [1, 3) and 1 from 3: area 1 x 1 + 1/2 x 2 = 2.
    assertClose(wassersteinNormed(Float64Array.of(0), Float64Array.of(3, 1)).distance, 2, 1e-15);
    // Ties across the samples: F_ref - F_cur is 1/3 - 0 on [1, 2), 1 - 1/2 on [2, 4).
    assertClose(wassersteinNormed(Float64Array.of(1, 2, 2), Float64Array.of(2, 4)).distance, 1 / 3 + 1, 1e-15);
    assert.equal(wassersteinNormed(Float64Array.of(3, 1, 2), Float64Array.of(1, 2, 3)).distance, 0);
  });

  it('is the shift for a shifted copy, whatever the spread', () => {
    const reference = uniforms(1000, 7).map((u) => 40 * u);
    const result = wassersteinNormed(
      reference,
      reference.map((x) => x + 0.7),
    );
    assertClose(result.distance, 0.7, 1e-9);
    assertClose(result.normed, 0.7 / result.referenceStd, 1e-9);
  });

  it('floors the std of a constant reference at 0.001', () => {
    const result = wassersteinNormed(Float64Array.of(5, 5, 5), Float64Array.of(5, 5, 6));
    assert.equal(result.referenceStd, 0);
    assertClose(result.normed, 1 / 3 / WASSERSTEIN_STD_FLOOR, 1e-12);
  });

  it('rejects empty samples and NaN', () => {
    assert.throws(() => wassersteinNormed(Float64Array.of(1), new Float64Array(0)), RangeError);
    assert.throws(() => wassersteinNormed(Float64Array.of(NaN), Float64Array.of(1)), RangeError);
  });
});
