import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  chooseMethod,
  columnDrift,
  datasetDrift,
  type ColumnDriftResult,
  type ColumnSample,
} from '../../src/stats/column-drift';
import { C1, C3, N1, assertClose, uniforms } from './drift-vectors';

const numeric = (reference: Float64Array, current: Float64Array): ColumnSample => ({
  kind: 'numeric',
  reference,
  current,
});
/** n values cycling through `values`. */
const cycle = (n: number, values: readonly number[]): Float64Array =>
  Float64Array.from({ length: n }, (_, i) => values[i % values.length]);

describe('chooseMethod (Evidently defaults)', () => {
  it('reference <= 1000 rows: KS for numeric with > 5 values, chi-square for > 2 values, z for binary', () => {
    assert.equal(chooseMethod(numeric(N1.reference, N1.current)), 'ks');
    assert.equal(chooseMethod(numeric(cycle(1000, [1, 2, 3, 4, 5, 6]), N1.current)), 'ks');
    assert.equal(chooseMethod(numeric(cycle(1000, [1, 2, 3, 4, 5]), N1.current)), 'chi-square');
    assert.equal(chooseMethod(numeric(cycle(1000, [0, 1]), cycle(10, [1, 0]))), 'z');
    assert.equal(chooseMethod({ kind: 'categorical', ...C1 }), 'chi-square');
    assert.equal(chooseMethod({ kind: 'categorical', ...C3 }), 'z');
  });

  it('leaves the z-test for chi-square when current brings a third value, and flags it as drift', () => {
    const sample = numeric(cycle(100, [0, 1]), cycle(100, [0, 1, 2]));
    assert.equal(chooseMethod(sample), 'chi-square');
    const result = columnDrift('flag', sample);
    assert.equal(result.pValue, 0);
    assert.equal(result.drifted, true);
    assert.equal(
      chooseMethod({
        kind: 'categorical',
        reference: C3.reference,
        current: new Map([
          ['0', 5],
          ['maybe', 1],
        ]),
      }),
      'chi-square',
    );
  });

  it('reference > 1000 rows: normed Wasserstein for numeric with > 5 values, Jensen-Shannon otherwise', () => {
    assert.equal(chooseMethod(numeric(cycle(1001, [1, 2, 3, 4, 5, 6]), N1.current)), 'wasserstein');
    assert.equal(chooseMethod(numeric(cycle(1001, [1, 2, 3, 4, 5]), N1.current)), 'jensen-shannon');
    const big = {
      kind: 'categorical',
      reference: new Map([
        ['A', 600],
        ['B', 401],
      ]),
      current: C1.current,
    } as const;
    assert.equal(chooseMethod(big), 'jensen-shannon');
  });
});

describe('columnDrift', () => {
  it('N1 by default: KS with its exact p 0.83, not drifted at 0.05', () => {
    const result = columnDrift('score', numeric(N1.reference, N1.current));
    assert.equal(result.column, 'score');
    assert.equal(result.method, 'ks');
    assertClose(result.statistic, 0.2);
    assertClose(result.pValue!, 0.831969610796);
    assert.equal(result.threshold, 0.05);
    assert.equal(result.drifted, false);
    assert.equal(result.details.pValueMethod, 'exact');
  });

  it('C1 by default: chi-square goodness of fit, drifted (p 0.030 < 0.05)', () => {
    const result = columnDrift('segment', { kind: 'categorical', ...C1 });
    assert.equal(result.method, 'chi-square');
    assertClose(result.statistic, 7);
    assertClose(result.pValue!, 0.0301973834223);
    assert.equal(result.details.df, 2);
    assert.equal(result.drifted, true);
  });

  it('C3 by default: two-proportion z, drifted (p 0.028)', () => {
    const result = columnDrift('churned', { kind: 'categorical', ...C3 });
    assert.equal(result.method, 'z');
    assertClose(result.statistic, -2.19089023002);
    assertClose(result.pValue!, 0.0284597369163);
    assert.equal(result.drifted, true);
  });

  it('reads a binary numeric column as the categories "0" and "1"', () => {
    const result = columnDrift(
      'flag',
      numeric(
        cycle(100, [0, 0, 0, 0, 0, 0, 0, 1, 1, 1]),
        cycle(100, [1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0]),
      ),
    );
    assert.equal(result.method, 'z');
    assertClose(result.statistic, -2.19089023002); // C3's shares: 30 vs 45 ones out of 100
  });

  it('large numeric column: normed Wasserstein, drifted at >= 0.1', () => {
    const reference = uniforms(2000, 3);
    const shifted = columnDrift(
      'x',
      numeric(
        reference,
        reference.map((u) => u + 0.05),
      ),
    );
    assert.equal(shifted.method, 'wasserstein');
    assert.equal(shifted.pValue, undefined);
    assertClose(shifted.statistic, 0.05 / (shifted.details.referenceStd as number), 1e-9);
    assert.equal(shifted.drifted, true, `0.05 / std(U(0,1)) = 0.17 (got ${shifted.statistic})`);
    assert.equal(columnDrift('x', numeric(reference, uniforms(2000, 4))).drifted, false);
  });

  it('large categorical column: Jensen-Shannon distance with its base-2 value in details', () => {
    const scaled = (counts: Map<string, number>) => new Map([...counts].map(([k, v]) => [k, v * 20]));
    const result = columnDrift('segment', {
      kind: 'categorical',
      reference: scaled(C1.reference),
      current: C1.current,
    });
    assert.equal(result.method, 'jensen-shannon');
    assertClose(result.statistic, 0.0884160628554);
    assertClose(result.details.base2 as number, 0.106198514392);
    assert.equal(result.drifted, false);
  });

  it('takes a method and a threshold override', () => {
    const psi = columnDrift('score', numeric(N1.reference, N1.current), { method: 'psi' });
    assert.equal(psi.method, 'psi');
    assertClose(psi.statistic, 0.358351893846);
    assert.equal(psi.threshold, 0.1);
    assert.equal(psi.drifted, true);
    assert.equal(
      columnDrift('score', numeric(N1.reference, N1.current), { method: 'psi', threshold: 0.5 }).drifted,
      false,
    );
    const js = columnDrift('score', numeric(N1.reference, N1.current), { method: 'jensen-shannon', threshold: 0.2 });
    assertClose(js.statistic, 0.207731343008);
    assert.equal(js.drifted, true);
    const w = columnDrift('score', numeric(N1.reference, N1.current), { method: 'wasserstein' });
    assertClose(w.statistic, 0.396269256073);
    assertClose(columnDrift('segment', { kind: 'categorical', ...C1 }, { method: 'psi' }).statistic, 0.0628608659422);
  });

  it('compares p-values as the defaults state: KS drifts at p <= threshold, chi-square only below', () => {
    const ks = columnDrift('score', numeric(N1.reference, N1.current));
    assert.equal(columnDrift('score', numeric(N1.reference, N1.current), { threshold: ks.pValue! }).drifted, true);
    const chi = columnDrift('segment', { kind: 'categorical', ...C1 });
    assert.equal(columnDrift('segment', { kind: 'categorical', ...C1 }, { threshold: chi.pValue! }).drifted, false);
  });

  it('refuses KS and Wasserstein on a categorical column', () => {
    assert.throws(() => columnDrift('segment', { kind: 'categorical', ...C1 }, { method: 'ks' }), TypeError);
    assert.throws(() => columnDrift('segment', { kind: 'categorical', ...C1 }, { method: 'wasserstein' }), TypeError);
  });
});

describe('datasetDrift', () => {
  const result = (drifted: boolean): ColumnDriftResult => ({
    column: 'c',
    method: 'psi',
    statistic: 0,
    threshold: 0.1,
    drifted,
    details: {},
  });

  it('drifts when the share of drifted columns reaches 0.5', () => {
    assert.deepEqual(datasetDrift([result(true), result(false)]), {
      drifted: true,
      driftedColumns: 1,
      columns: 2,
      driftedShare: 0.5,
    });
    assert.equal(datasetDrift([result(true), result(false), result(false)]).drifted, false);
  });

  it('takes another share, and sees no drift in no columns', () => {
    assert.equal(datasetDrift([result(true), result(false), result(false)], 0.3).drifted, true);
    assert.deepEqual(datasetDrift([]), { drifted: false, driftedColumns: 0, columns: 0, driftedShare: 0 });
  });
});
