import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { radixSortFloat64 } from '../../src/stats/radix-sort';
import { withSortBuffers } from '../../src/stats/sample';
import { wassersteinNormed } from '../../src/stats/wasserstein';
import { ksTwoSample } from '../../src/stats/ks';
import { decileEdges } from '../../src/stats/binning';
import { uniforms } from './drift-vectors';

/** Element by element with Object.is, so -0 against +0 and the NaN positions count. */
function assertSameOrder(actual: Float64Array, expected: Float64Array, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++)
    assert.ok(
      Object.is(actual[i], expected[i]),
      `${what}, index ${i}: ${actual[i]} where the built-in sort has ${expected[i]}`,
    );
}

describe('radixSortFloat64', () => {
  it('orders as Float64Array.prototype.sort does, on samples of every shape', () => {
    const u = uniforms(70_000, 7);
    const samples: Record<string, Float64Array> = {
      uniform: u,
      'signed, wide magnitudes': u.map((x, i) => (x - 0.5) * 10 ** ((i % 40) - 20)),
      'few distinct integers (skipped passes)': u.map((x) => Math.floor(x * 24)),
      'duplicates, zeros of both signs, infinities, subnormals': u.map(
        (x, i) => [-0, 0, Infinity, -Infinity, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, x][i % 9]!,
      ),
      'one value': Float64Array.of(-3.5),
      empty: new Float64Array(0),
    };
    for (const [name, values] of Object.entries(samples)) {
      const before = values.slice();
      assertSameOrder(radixSortFloat64(values), values.slice().sort(), name);
      assertSameOrder(values, before, `${name}: the input is left as it was`);
    }
  });

  it('puts a positive NaN last, as the built-in sort does, and a NaN with its sign bit set first', () => {
    const negativeNaN = new Float64Array(new BigUint64Array([0xfff8000000000000n]).buffer)[0]!;
    const sorted = radixSortFloat64(Float64Array.of(2, NaN, -1, negativeNaN, 0));
    assert.ok(Number.isNaN(sorted[0]) && Number.isNaN(sorted[4]), `${sorted}`);
    assert.deepEqual([...sorted.subarray(1, 4)], [-1, 0, 2]);
  });
});

describe('withSortBuffers', () => {
  it('gives every metric the results it gives without shared buffers, column after column', () => {
    const columns = [uniforms(5000, 1), uniforms(3000, 2).map((u) => u * u), uniforms(4000, 3).map(Math.floor)];
    const current = [uniforms(2000, 4), uniforms(6000, 5), uniforms(1000, 6).map((u) => u * 2)];
    const judge = () =>
      columns.map((reference, i) => ({
        wasserstein: wassersteinNormed(reference, current[i]!),
        ks: ksTwoSample(reference, current[i]!),
        deciles: [...decileEdges(reference)],
      }));
    assert.deepEqual(withSortBuffers(judge), judge());
  });

  it('sorts into the buffer it is given, which must be as long as the sample', () => {
    const into = new Float64Array(3);
    assert.equal(radixSortFloat64(Float64Array.of(3, -1, 2), into), into);
    assert.deepEqual([...into], [-1, 2, 3]);
    assert.throws(() => radixSortFloat64(Float64Array.of(1), into), /cannot sort 1 values into an array of 3/);
  });
});
