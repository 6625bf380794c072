import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  jsDistanceBase2,
  jsDistanceCategorical,
  jsDistanceFromCounts,
  jsDistanceNumeric,
} from '../../src/stats/jensen-shannon';
import { C1, C3, N1, assertClose } from './drift-vectors';

describe('Jensen-Shannon distance: vectors', () => {
  it('N1 on the decile bins: 0.207731343008 nats, 0.249510771094 base 2', () => {
    const distance = jsDistanceNumeric(N1.reference, N1.current);
    assertClose(distance, 0.207731343008);
    assertClose(jsDistanceBase2(distance), 0.249510771094);
  });

  it('C1: 0.0884160628554 nats, 0.106198514392 base 2; C3: 0.109825681303 nats', () => {
    const distance = jsDistanceCategorical(C1.reference, C1.current);
    assertClose(distance, 0.0884160628554);
    assertClose(jsDistanceBase2(distance), 0.106198514392);
    assertClose(jsDistanceCategorical(C3.reference, C3.current), 0.109825681303);
  });
});

describe('Jensen-Shannon distance: properties', () => {
  it('needs no smoothing for an empty bin: 0 ln 0 = 0 and the mixture is positive there', () => {
    // r = (1/2, 1/2), c = (1, 0), m = (3/4, 1/4).
    const divergence = (0.5 * Math.log(0.5 / 0.75) + 0.5 * Math.log(0.5 / 0.25) + Math.log(1 / 0.75)) / 2;
    assertClose(jsDistanceFromCounts(Float64Array.of(3, 3), Float64Array.of(7, 0)), Math.sqrt(divergence), 1e-14);
  });

  it('reaches its maximum sqrt(ln 2) (1 in base 2) on disjoint supports', () => {
    const distance = jsDistanceCategorical(new Map([['A', 5]]), new Map([['B', 9]]));
    assertClose(distance, Math.sqrt(Math.LN2), 1e-14);
    assertClose(jsDistanceBase2(distance), 1, 1e-14);
  });

  it('is 0 for proportional counts and symmetric in its sides', () => {
    assert.equal(jsDistanceFromCounts(Float64Array.of(1, 2, 3), Float64Array.of(10, 20, 30)), 0);
    const reference = Float64Array.of(2, 2, 2, 2, 2, 2, 2, 2, 2, 2);
    const current = Float64Array.of(2, 2, 1, 2, 1, 2, 1, 2, 1, 6); // N1's bins
    assertClose(jsDistanceFromCounts(current, reference), jsDistanceFromCounts(reference, current), 1e-15);
    assertClose(jsDistanceFromCounts(reference, current), 0.207731343008);
  });

  it('rejects mismatched or empty counts', () => {
    assert.throws(() => jsDistanceFromCounts(Float64Array.of(1), Float64Array.of(1, 2)), RangeError);
    assert.throws(() => jsDistanceFromCounts(Float64Array.of(0, 0), Float64Array.of(1, 2)), RangeError);
  });
});
