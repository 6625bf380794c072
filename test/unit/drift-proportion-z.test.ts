import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { twoProportionZ, twoSidedNormalP } from '../../src/stats/proportion-z';
import { C3, assertClose } from './drift-vectors';

describe('twoProportionZ', () => {
  it('C3: z -2.19089023002 for the share of "1", two-sided p 0.0284597369163', () => {
    const result = twoProportionZ(C3.reference, C3.current);
    assert.equal(result.positive, '1');
    assertClose(result.z, -2.19089023002);
    assertClose(result.pValue, 0.0284597369163);
    assert.equal(result.referenceShare, 0.3);
    assert.equal(result.currentShare, 0.45);
  });

  it('flips the sign of z, not the p-value, with the other label as positive', () => {
    const result = twoProportionZ(C3.reference, C3.current, '0');
    assertClose(result.z, 2.19089023002);
    assertClose(result.pValue, 0.0284597369163);
  });

  it('gives z 0 and p 1 when there is nothing to compare', () => {
    const same = twoProportionZ(
      new Map([
        ['0', 7],
        ['1', 3],
      ]),
      new Map([
        ['0', 70],
        ['1', 30],
      ]),
    );
    assert.equal(same.z, 0);
    assert.equal(same.pValue, 1);
    const constant = twoProportionZ(new Map([['yes', 4]]), new Map([['yes', 9]]));
    assert.equal(constant.z, 0);
    assert.equal(constant.pValue, 1);
  });

  it('refuses more than two categories and an unknown positive label', () => {
    assert.throws(
      () =>
        twoProportionZ(
          new Map([
            ['a', 1],
            ['b', 1],
          ]),
          new Map([['c', 1]]),
        ),
      RangeError,
    );
    assert.throws(() => twoProportionZ(C3.reference, C3.current, 'yes'), RangeError);
  });
});

describe('twoSidedNormalP', () => {
  it('is 0.05 at 1.959963984540054, 1 at 0, and stays accurate deep in the tail', () => {
    assertClose(twoSidedNormalP(1.959963984540054), 0.05, 1e-12);
    assertClose(twoSidedNormalP(-1.959963984540054), 0.05, 1e-12);
    assert.equal(twoSidedNormalP(0), 1);
    // erfc(10 / sqrt 2) = 1.5239706048321e-23, where 1 - erf would give 0.
    assertClose(twoSidedNormalP(10), 1.5239706048321186e-23, 1e-10);
  });
});
