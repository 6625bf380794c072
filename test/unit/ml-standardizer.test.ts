import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Standardizer } from '../../src/ml/standardizer';

function assertClose(actual: Float64Array, expected: number[]): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-12, `[${i}] ${v} vs ${expected[i]}`));
}

describe('Standardizer', () => {
  it('fits mean and population std over the non-missing values only', () => {
    const st = Standardizer.fit([Float64Array.of(1, NaN, 3, 5)], 4);
    // Values 1, 3, 5: mean 3, variance (4 + 0 + 4) / 3.
    assert.equal(st.means[0], 3);
    assert.ok(Math.abs(st.stds[0]! - Math.sqrt(8 / 3)) < 1e-15);
  });

  it('transforms to z-scores and imputes missing values at the mean (0)', () => {
    const raw = [Float64Array.of(1, NaN, 3, 5), Float64Array.of(10, 20, NaN, 30)];
    const st = Standardizer.fit(raw, 4);
    const [a, b] = st.transform(raw, 4) as [Float64Array, Float64Array];
    const sa = Math.sqrt(8 / 3);
    // Column b: 10, 20, 30 -> mean 20, std sqrt(200 / 3).
    const sb = Math.sqrt(200 / 3);
    assertClose(a, [-2 / sa, 0, 0, 2 / sa]);
    assertClose(b, [-10 / sb, 0, 0, 10 / sb]);
    assert.ok(Number.isNaN(raw[0]![1]), 'the input columns are left untouched');
  });

  it('maps constant and all-missing features to 0 instead of dividing by zero', () => {
    const raw = [Float64Array.of(7, 7, 7), Float64Array.of(NaN, NaN, NaN)];
    const st = Standardizer.fit(raw, 3);
    assert.deepEqual(st.toJSON(), { means: [7, 0], stds: [1, 1] });
    assert.deepEqual(
      st.transform(raw, 3).map((c) => [...c]),
      [
        [0, 0, 0],
        [0, 0, 0],
      ],
    );
  });

  it('is exact on values with a large offset (two-pass variance)', () => {
    const st = Standardizer.fit([Float64Array.of(1e9 + 1, 1e9 + 2, 1e9 + 3)], 3);
    // A one-pass E[x^2] - E[x]^2 loses every digit here; the true std is sqrt(2/3).
    assert.ok(Math.abs(st.stds[0]! - Math.sqrt(2 / 3)) < 1e-9, `std ${st.stds[0]}`);
  });

  it('round-trips through JSON to the same transform', () => {
    const raw = [Float64Array.of(0.1, 2.7, NaN, -4.2, 9.9)];
    const st = Standardizer.fit(raw, 5);
    const back = Standardizer.fromJSON(JSON.parse(JSON.stringify(st)));
    assert.deepEqual(back.transform(raw, 5), st.transform(raw, 5));
  });

  it('rejects malformed input and artifacts', () => {
    assert.throws(() => Standardizer.fit([Float64Array.of(1, Infinity)], 2), /Infinity/);
    assert.throws(() => Standardizer.fit([Float64Array.of(1, 2)], 3), /expected 3/);
    const st = Standardizer.fit([Float64Array.of(1, 2)], 2);
    assert.throws(() => st.transform([Float64Array.of(1), Float64Array.of(2)], 1), /expected 1 feature columns/);
    assert.throws(() => Standardizer.fromJSON({ means: [0], stds: [0] }), /std 0/);
    assert.throws(() => Standardizer.fromJSON({ means: [0, 1], stds: [1] }), /differ in length/);
  });
});
