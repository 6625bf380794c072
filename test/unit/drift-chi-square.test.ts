import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chiSquareContingency, chiSquareGoodnessOfFit, chiSquareSurvival } from '../../src/stats/chi-square';
import { lnGamma, regularizedGammaQ } from '../../src/stats/gamma';
import { C1, assertClose } from './drift-vectors';

/** Survival of chi-square with an even df = 2k in closed form: e^(-x/2) sum_{i<k} (x/2)^i / i!. */
function evenDfSurvival(x: number, df: number): number {
  let term = 1;
  let sum = 0;
  for (let i = 0; i < df / 2; i++) {
    sum += term;
    term *= x / 2 / (i + 1);
  }
  return Math.exp(-x / 2) * sum;
}

describe('chi-square survival', () => {
  it('is 0.05 at the 95% critical values for df 1 and df 10', () => {
    assertClose(chiSquareSurvival(3.841458820694124, 1), 0.05, 1e-12);
    assertClose(chiSquareSurvival(18.307038053275146, 10), 0.05, 1e-12);
  });

  it('matches the closed form for even df on both sides of the series / continued-fraction switch', () => {
    for (const df of [2, 4, 10]) {
      for (const x of [0.3, 5, df + 1.9, df + 2.1, 30, 200]) {
        assertClose(chiSquareSurvival(x, df), evenDfSurvival(x, df), 1e-12, `df=${df} x=${x}`);
      }
    }
  });

  it('is 1 at 0, 0 at infinity, and refuses df <= 0', () => {
    assert.equal(chiSquareSurvival(0, 3), 1);
    assert.equal(chiSquareSurvival(Infinity, 3), 0);
    assert.throws(() => chiSquareSurvival(1, 0), RangeError);
    assert.throws(() => regularizedGammaQ(0.5, -1), RangeError);
  });

  it('rests on an accurate ln Gamma', () => {
    assertClose(lnGamma(0.5), 0.5 * Math.log(Math.PI), 1e-14);
    assertClose(lnGamma(10), Math.log(362880), 1e-14);
    assertClose(lnGamma(1), 0, 1e-14);
  });
});

describe('chi-square goodness of fit', () => {
  it('C1: statistic 7, df 2, p 0.0301973834223', () => {
    const result = chiSquareGoodnessOfFit(C1.reference, C1.current);
    assertClose(result.statistic, 7);
    assert.equal(result.df, 2);
    assertClose(result.pValue, 0.0301973834223);
  });

  it('scales expected counts to the current total', () => {
    // Reference shares 1/2, 1/2 scaled to 10 current rows: expected 5, 5; (8-5)^2/5 x 2 = 3.6.
    const result = chiSquareGoodnessOfFit(
      new Map([
        ['a', 300],
        ['b', 300],
      ]),
      new Map([
        ['a', 8],
        ['b', 2],
      ]),
    );
    assertClose(result.statistic, 3.6, 1e-14);
    assert.equal(result.df, 1);
  });

  it('reports a category the reference never saw as certain drift', () => {
    const result = chiSquareGoodnessOfFit(
      new Map([['a', 10]]),
      new Map([
        ['a', 10],
        ['new', 1],
      ]),
    );
    assert.equal(result.statistic, Infinity);
    assert.equal(result.pValue, 0);
  });

  it('has nothing to test with a single category', () => {
    assert.deepEqual(chiSquareGoodnessOfFit(new Map([['a', 10]]), new Map([['a', 3]])), {
      statistic: 0,
      df: 0,
      pValue: 1,
    });
  });
});

describe('chi-square contingency', () => {
  it('C1 as a 2 x 3 table: statistic 3.11111111111, df 2, p 0.211072087791', () => {
    const result = chiSquareContingency(C1.reference, C1.current);
    assertClose(result.statistic, 3.11111111111);
    assert.equal(result.df, 2);
    assertClose(result.pValue, 0.211072087791);
  });

  it('applies no Yates correction on a 2 x 2 table', () => {
    // Uncorrected: N (ad - bc)^2 / (row and column totals) = 40 x 200^2 / (20 x 20 x 20 x 20) = 10.
    const result = chiSquareContingency(
      new Map([
        ['x', 15],
        ['y', 5],
      ]),
      new Map([
        ['x', 5],
        ['y', 15],
      ]),
    );
    assertClose(result.statistic, 10, 1e-14);
    assertClose(result.pValue, chiSquareSurvival(10, 1), 1e-15);
  });

  it('takes a category present on one side only as a column of the table', () => {
    const result = chiSquareContingency(
      new Map([['a', 10]]),
      new Map([
        ['a', 5],
        ['b', 5],
      ]),
    );
    assert.equal(result.df, 1);
    // Expected: a 10 x 15/20 = 7.5 and 7.5, b 2.5 and 2.5.
    assertClose(result.statistic, (2.5 ** 2 / 7.5) * 2 + (2.5 ** 2 / 2.5) * 2, 1e-14);
  });
});
