import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KS_EXACT_MAX_N, kolmogorovQ, ksTwoSample } from '../../src/stats/ks';
import { N1, assertClose } from './drift-vectors';

/** D by definition, in O(N^2): both ECDFs evaluated at every observed value. */
function naiveD(ref: readonly number[], cur: readonly number[]): number {
  let d = 0;
  for (const x of [...ref, ...cur]) {
    const fr = ref.filter((v) => v <= x).length / ref.length;
    const fc = cur.filter((v) => v <= x).length / cur.length;
    d = Math.max(d, Math.abs(fr - fc));
  }
  return d;
}

/** Every split of the values 1..m+n into m reference and n current values: the null distribution of D. */
function allSplits(m: number, n: number): Array<{ ref: number[]; cur: number[]; d: number }> {
  const splits = [];
  for (let mask = 0; mask < 2 ** (m + n); mask++) {
    const ref: number[] = [];
    const cur: number[] = [];
    for (let k = 0; k < m + n; k++) (mask & (1 << k) ? ref : cur).push(k + 1);
    if (ref.length === m) splits.push({ ref, cur, d: naiveD(ref, cur) });
  }
  return splits;
}

describe('ksTwoSample: vector N1', () => {
  it('gives D 0.2 and the exact p-value 0.831969610796', () => {
    const result = ksTwoSample(N1.reference, N1.current);
    assert.equal(result.method, 'exact');
    assertClose(result.statistic, 0.2);
    assertClose(result.pValue, 0.831969610796);
  });

  it('gives the classic asymptotic p-value 0.818621174471', () => {
    const result = ksTwoSample(N1.reference, N1.current, { method: 'asymptotic' });
    assert.equal(result.method, 'asymptotic');
    assertClose(result.statistic, 0.2);
    assertClose(result.pValue, 0.818621174471);
  });

  it('leaves its inputs unsorted and unchanged', () => {
    const reference = Float64Array.of(3, 1, 2);
    ksTwoSample(reference, Float64Array.of(5, 4));
    assert.deepEqual([...reference], [3, 1, 2]);
  });
});

describe('ksTwoSample: D', () => {
  it('steps both ECDFs past every copy of a tied value before comparing them', () => {
    // At x = 2 both ECDFs reach 3/4; a walk comparing between the copies of 2 would report 3/4 - 0.
    const result = ksTwoSample(Float64Array.of(1, 2, 2, 3), Float64Array.of(2, 2, 2, 4));
    assertClose(result.statistic, 0.25);
    assert.equal(result.pValue, 1, 'with m = n = 4 every path reaches D >= 1/4 at its first step');
  });

  it('matches the definition on samples full of ties and of unequal sizes', () => {
    const ref = [1, 1, 2, 3, 3, 3, 5, 8, 8];
    const cur = [0, 1, 3, 3, 4, 8, 8, 8, 9, 9, 9, 2];
    assertClose(ksTwoSample(Float64Array.from(ref), Float64Array.from(cur)).statistic, naiveD(ref, cur), 1e-15);
  });

  it('is 0 with p 1 for identical samples', () => {
    const result = ksTwoSample(Float64Array.of(4, 2, 2, 7), Float64Array.of(2, 7, 4, 2));
    assert.equal(result.statistic, 0);
    assert.equal(result.pValue, 1);
  });

  it('rejects empty samples and NaN', () => {
    assert.throws(() => ksTwoSample(new Float64Array(0), Float64Array.of(1)), RangeError);
    assert.throws(() => ksTwoSample(Float64Array.of(1, NaN), Float64Array.of(1)), RangeError);
    assert.throws(() => ksTwoSample(Float64Array.of(1), Float64Array.of(Infinity)), RangeError);
  });
});

describe('ksTwoSample: exact p-value', () => {
  it('is 2 / C(6, 3) = 0.1 for completely separated samples of 3 (scipy gives 0.1)', () => {
    const result = ksTwoSample(Float64Array.of(1, 2, 3), Float64Array.of(4, 5, 6));
    assert.equal(result.statistic, 1);
    assertClose(result.pValue, 0.1, 1e-14);
  });

  for (const [m, n] of [
    [7, 5],
    [6, 4],
    [3, 9],
    [5, 5],
  ] as const) {
    it(`equals the share of all C(${m + n}, ${m}) splits with D >= d, for every attainable d (m=${m}, n=${n})`, () => {
      const splits = allSplits(m, n);
      const seen = new Set<number>();
      for (const split of splits) {
        if (seen.has(split.d)) continue;
        seen.add(split.d);
        const expected = splits.filter((s) => s.d >= split.d - 1e-12).length / splits.length;
        const result = ksTwoSample(Float64Array.from(split.ref), Float64Array.from(split.cur));
        assertClose(result.pValue, expected, 1e-12, `d=${split.d}`);
      }
      assert.ok(seen.size >= 4, 'several values of D were checked');
    });
  }

  it('is close to, but not equal to, the asymptotic one for moderate samples (300 vs 250)', () => {
    const reference = Float64Array.from({ length: 300 }, (_, i) => i / 300);
    const current = Float64Array.from({ length: 250 }, (_, i) => i / 250 + 0.1);
    const exact = ksTwoSample(reference, current, { method: 'exact' });
    const asymptotic = ksTwoSample(reference, current, { method: 'asymptotic' });
    assert.ok(exact.pValue > 0.005 && exact.pValue < 0.2, `p in the interesting range (got ${exact.pValue})`);
    assert.ok(Math.abs(exact.pValue - asymptotic.pValue) < 0.01, `${exact.pValue} vs ${asymptotic.pValue}`);
    assert.ok(Math.abs(exact.pValue - asymptotic.pValue) > 1e-6, 'the two methods are distinct computations');
  });

  it('switches to asymptotic above KS_EXACT_MAX_N, and refuses to be forced there', () => {
    const reference = Float64Array.from({ length: KS_EXACT_MAX_N + 1 }, (_, i) => i);
    const current = Float64Array.from({ length: 50 }, (_, i) => i * 100);
    assert.equal(ksTwoSample(reference, current).method, 'asymptotic');
    assert.equal(ksTwoSample(reference.subarray(0, KS_EXACT_MAX_N), current).method, 'exact');
    assert.throws(() => ksTwoSample(reference, current, { method: 'exact' }), RangeError);
  });
});

describe('kolmogorovQ', () => {
  it('agrees with the plain alternating series on both sides of its switch at t = 1.18', () => {
    const alternating = (t: number): number => {
      let sum = 0;
      for (let k = 1; k <= 400; k++) sum += (k % 2 === 1 ? 2 : -2) * Math.exp(-2 * k * k * t * t);
      return sum;
    };
    for (const t of [0.4, 0.8, 1.1, 1.17, 1.19, 1.5, 2.5]) assertClose(kolmogorovQ(t), alternating(t), 1e-12, `t=${t}`);
  });

  it('gives 0.05 at the familiar critical value 1.3581 and 1 at 0', () => {
    assertClose(kolmogorovQ(1.3580986393225505), 0.05, 1e-9);
    assert.equal(kolmogorovQ(0), 1);
  });
});
