import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateRows } from '../../src/ml/evaluation';
import type { FeatureMatrix } from '../../src/ml/feature-matrix';
import { calibration, evaluate } from '../../src/ml/metrics';
import { lcg } from './ml-fixtures';

/**
 * 1000 rows over 4 days; segment "hub" is every third row; segment "quiet" is the rows of day 3
 * whose labels are all 0 there.
 */
function fixture(): { m: FeatureMatrix; scores: Float64Array } {
  const rows = 1000;
  const next = lcg(11);
  const dayIndex = Uint16Array.from({ length: rows }, (_, i) => Math.floor(i / 250));
  const scores = Float64Array.from({ length: rows }, () => next());
  const labels = Uint8Array.from(scores, (s, i) => (dayIndex[i] === 3 && i % 5 === 0 ? 0 : next() < s ? 1 : 0));
  return {
    scores,
    m: {
      features: ['x'],
      segments: ['hub', 'quiet'],
      rows,
      columns: [new Float64Array(rows)],
      labels,
      days: ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04'],
      dayIndex,
      segmentMasks: [
        Uint8Array.from({ length: rows }, (_, i) => (i % 3 === 0 ? 1 : 0)),
        Uint8Array.from(dayIndex, (d, i) => (d === 3 && i % 5 === 0 ? 1 : 0)),
      ],
    },
  };
}

const META = { split: 'test', from: '2024-01-03', to: '2024-01-04' };

describe('evaluateRows', () => {
  it('evaluates the range overall and per segment with the metrics functions', () => {
    const { m, scores } = fixture();
    const range = { start: 500, end: 1000 };
    const rangeScores = scores.subarray(500, 1000);
    const e = evaluateRows(m, range, rangeScores, 0.4, META);
    const labels = m.labels.subarray(500, 1000);
    assert.equal(e.rows, 500);
    assert.deepEqual([e.split, e.from, e.to], ['test', '2024-01-03', '2024-01-04']);
    assert.deepEqual(e.overall, evaluate(labels, rangeScores, 0.4));
    assert.deepEqual(e.calibration, calibration(labels, rangeScores).bins);
    assert.equal(e.calibration.length, 10);

    const hub = e.segments[0]!;
    const rowsOfHub = [...Array(500).keys()].filter((i) => (500 + i) % 3 === 0);
    const hubLabels = Uint8Array.from(rowsOfHub, (i) => labels[i]!);
    const hubScores = Float64Array.from(rowsOfHub, (i) => rangeScores[i]!);
    assert.equal(hub.name, 'hub');
    assert.equal(hub.rows, rowsOfHub.length);
    assert.equal(
      hub.positives,
      hubLabels.reduce((a, b) => a + b, 0),
    );
    assert.deepEqual(hub.metrics, evaluate(hubLabels, hubScores, 0.4));
    assert.equal(hub.note, undefined);
  });

  it('gives a segment with one class a note instead of metrics', () => {
    const { m, scores } = fixture();
    const e = evaluateRows(m, { start: 500, end: 1000 }, scores.subarray(500, 1000), 0.5, META);
    assert.deepEqual(e.segments[1], {
      name: 'quiet',
      rows: 50,
      positives: 0,
      note: 'only one class (0 positives of 50 rows)',
    });
  });

  it('gives a segment with no rows in the range a note', () => {
    const { m, scores } = fixture();
    const e = evaluateRows(m, { start: 0, end: 500 }, scores.subarray(0, 500), 0.5, {
      split: 'train',
      from: '2024-01-01',
      to: '2024-01-02',
    });
    assert.deepEqual(e.segments[1], { name: 'quiet', rows: 0, positives: 0, note: 'no rows' });
    assert.ok(e.segments[0]!.metrics);
  });

  it('refuses a score count that does not match the range', () => {
    const { m, scores } = fixture();
    assert.throws(
      () => evaluateRows(m, { start: 500, end: 1000 }, scores, 0.5, META),
      /1000 scores for the 500 rows of the test split/,
    );
  });

  it('refuses a range without both classes, naming the split', () => {
    const { m, scores } = fixture();
    const allZero = { ...m, labels: new Uint8Array(m.rows) };
    assert.throws(
      () => evaluateRows(allZero, { start: 0, end: 10 }, scores.subarray(0, 10), 0.5, META),
      /cannot evaluate the test split \(2024-01-03\.\.2024-01-04\): only one class \(0 positives of 10 rows\)/,
    );
    assert.throws(() => evaluateRows(m, { start: 5, end: 5 }, new Float64Array(0), 0.5, META), /no rows/);
  });
});
