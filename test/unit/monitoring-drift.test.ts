import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { computeDrift, type DriftInput } from '../../src/monitoring/drift';
import { chooseMethod, columnDrift } from '../../src/stats/column-drift';
import type { FeatureMatrix } from '../../src/ml/feature-matrix';
import { uniforms } from './drift-vectors';

/** A one-day matrix of the given columns; labels and segments play no part in drift. */
function matrix(columns: Record<string, Float64Array>): FeatureMatrix {
  const rows = Object.values(columns)[0]!.length;
  return {
    features: Object.keys(columns),
    segments: [],
    rows,
    columns: Object.values(columns),
    labels: new Uint8Array(rows),
    days: ['2001-03-01'],
    dayIndex: new Uint16Array(rows),
    segmentMasks: [],
  };
}

/** Standard normal samples (Box-Muller over the deterministic uniforms), shifted by `shift`. */
function normals(count: number, seed: number, shift = 0): Float64Array {
  const u = uniforms(2 * count, seed);
  return Float64Array.from(
    { length: count },
    (_, i) => shift + Math.sqrt(-2 * Math.log(1 - u[2 * i]!)) * Math.cos(2 * Math.PI * u[2 * i + 1]!),
  );
}

/** n values cycling through from..to. */
const cycle = (n: number, from: number, to: number) =>
  Float64Array.from({ length: n }, (_, i) => from + (i % (to - from + 1)));

const settings = (overrides: Partial<DriftInput['settings']> = {}): DriftInput['settings'] => ({
  methods: {},
  thresholds: {},
  datasetShare: 0.5,
  ...overrides,
});

describe('computeDrift', () => {
  it('flags a column shifted by one standard deviation and not an identical one, with histograms and means', () => {
    const same = normals(2000, 1);
    const reference = matrix({ shifted: normals(2000, 2), same });
    const current = matrix({ shifted: normals(2000, 3, 1), same: same.slice() });
    const { columns } = computeDrift({ reference, current, columns: ['shifted', 'same'], settings: settings() });
    const [shifted, unchanged] = columns;
    assert.equal(shifted!.method, 'wasserstein');
    assert.equal(shifted!.drifted, true);
    assert.ok(Math.abs(shifted!.statistic - 1) < 0.1, `normed W1 ${shifted!.statistic} should be about 1 sd`);
    assert.ok(Math.abs(shifted!.currentMean - shifted!.referenceMean - 1) < 0.1);
    assert.equal(unchanged!.drifted, false);
    assert.equal(unchanged!.statistic, 0);
    for (const c of columns) {
      assert.equal(c.histogram.edges.length, 21);
      assert.equal(
        c.histogram.reference.reduce((a, b) => a + b),
        2000,
      );
      assert.equal(
        c.histogram.current.reduce((a, b) => a + b),
        2000,
      );
    }
  });

  it('uses KS on a small reference', () => {
    const reference = matrix({ x: normals(500, 4) });
    const current = matrix({ x: normals(500, 5, 1) });
    const [x] = computeDrift({ reference, current, columns: ['x'], settings: settings() }).columns;
    assert.equal(x!.method, 'ks');
    assert.equal(x!.drifted, true);
  });

  it('leaves the method of discrete columns to chooseMethod: categories up to 5 values, numeric beyond', () => {
    for (const [rows, to, expected] of [
      [2000, 5, 'jensen-shannon'],
      [500, 5, 'chi-square'],
      // Seven days of the week are more than 5 distinct values: numeric, as chooseMethod has it.
      [2000, 7, 'wasserstein'],
    ] as const) {
      const values = cycle(rows, 1, to);
      const [c] = computeDrift({
        reference: matrix({ c: values }),
        current: matrix({ c: values }),
        columns: ['c'],
        settings: settings(),
      }).columns;
      assert.equal(chooseMethod({ kind: 'numeric', reference: values, current: values }), expected);
      assert.equal(c!.method, expected, `${rows} rows of 1..${to}`);
      assert.equal(c!.drifted, false);
    }
  });

  it('applies method and threshold overrides per column', () => {
    const reference = matrix({ a: normals(2000, 6), b: normals(2000, 7) });
    const current = matrix({ a: normals(2000, 8, 0.3), b: normals(2000, 9, 0.3) });
    const byDefault = computeDrift({ reference, current, columns: ['a', 'b'], settings: settings() }).columns;
    assert.deepEqual(
      byDefault.map((c) => [c.method, c.drifted]),
      [
        ['wasserstein', true],
        ['wasserstein', true],
      ],
    );
    const overridden = computeDrift({
      reference,
      current,
      columns: ['a', 'b'],
      settings: settings({ methods: { a: 'psi' }, thresholds: { b: 0.5 } }),
    }).columns;
    assert.equal(overridden[0]!.method, 'psi');
    assert.equal(overridden[0]!.threshold, 0.1);
    assert.equal(overridden[1]!.method, 'wasserstein');
    assert.equal(overridden[1]!.threshold, 0.5);
    assert.equal(overridden[1]!.drifted, false);
  });

  it('rejects an override naming no feature nor the prediction', () => {
    const m = matrix({ a: normals(100, 10) });
    assert.throws(
      () =>
        computeDrift({ reference: m, current: m, columns: ['a'], settings: settings({ thresholds: { typo: 0.2 } }) }),
      /column typo/,
    );
  });

  it('judges the dataset by the share of drifted features', () => {
    const reference = matrix({
      a: normals(2000, 11),
      b: normals(2000, 12),
      c: normals(2000, 13),
      d: normals(2000, 14),
    });
    const current = matrix({
      a: normals(2000, 15, 1),
      b: normals(2000, 16),
      c: normals(2000, 17),
      d: normals(2000, 18),
    });
    const input = { reference, current, columns: ['a', 'b', 'c', 'd'] };
    const half = computeDrift({ ...input, settings: settings() }).dataset;
    assert.deepEqual(half, { drifted: false, driftedColumns: 1, columns: 4, driftedShare: 0.25 });
    assert.equal(computeDrift({ ...input, settings: settings({ datasetShare: 0.25 }) }).dataset.drifted, true);
  });

  it('judges the prediction apart, not counted in dataset drift', () => {
    const reference = matrix({ a: normals(2000, 19), prediction: normals(2000, 20) });
    const current = matrix({ a: normals(2000, 21), prediction: normals(2000, 22, 2) });
    const result = computeDrift({ reference, current, columns: ['a'], settings: settings({ datasetShare: 0.1 }) });
    assert.equal(result.prediction?.column, 'prediction');
    assert.equal(result.prediction?.drifted, true);
    assert.deepEqual(result.dataset, { drifted: false, driftedColumns: 0, columns: 1, driftedShare: 0 });
    assert.equal(
      computeDrift({ reference, current: matrix({ a: normals(2000, 21) }), columns: ['a'], settings: settings() })
        .prediction,
      undefined,
    );
    assert.throws(
      () => computeDrift({ reference, current, columns: ['a', 'prediction'], settings: settings() }),
      /judged apart/,
    );
  });

  it('drops NaN from both sides before testing and counts them in details', () => {
    const ref = normals(2000, 23);
    const cur = normals(2000, 24, 0.5);
    const withGaps = (values: Float64Array, every: number) => values.map((v, i) => (i % every === 0 ? NaN : v));
    const clean = (values: Float64Array) => values.filter((v) => !Number.isNaN(v));
    const reference = matrix({ x: withGaps(ref, 10) });
    const current = matrix({ x: withGaps(cur, 4) });
    const [x] = computeDrift({ reference, current, columns: ['x'], settings: settings() }).columns;
    const expected = columnDrift('x', {
      kind: 'numeric',
      reference: clean(reference.columns[0]!),
      current: clean(current.columns[0]!),
    });
    assert.equal(x!.statistic, expected.statistic);
    assert.equal(x!.details.referenceNaNDropped, 200);
    assert.equal(x!.details.currentNaNDropped, 500);
    assert.equal(
      x!.histogram.current.reduce((a, b) => a + b),
      1500,
    );
    assert.ok(Number.isFinite(x!.referenceMean) && Number.isFinite(x!.currentMean));
    const allNaN = matrix({ x: new Float64Array(10).fill(NaN) });
    assert.throws(
      () => computeDrift({ reference, current: allNaN, columns: ['x'], settings: settings() }),
      /no values besides NaN in the current/,
    );
  });

  it('names a column missing from a matrix', () => {
    const m = matrix({ a: normals(10, 25) });
    assert.throws(
      () => computeDrift({ reference: m, current: m, columns: ['b'], settings: settings() }),
      /reference matrix has no column b/,
    );
  });
});
