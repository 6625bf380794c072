import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { partitionRange } from '../../src/features/partition-dates';
import { splitDays, type SplitFractions, type TimeSplit } from '../../src/ml/time-split';

const DEFAULT: SplitFractions = { train: 0.7, validation: 0.15, test: 0.15 };

function daysOf(n: number): string[] {
  return partitionRange('2024-01-01', '2024-12-31').slice(0, n);
}

function sizes(split: TimeSplit): number[] {
  return [split.train.days.length, split.validation.days.length, split.test.days.length];
}

/** Train, validation and test concatenated are exactly the input, and from/to match their days. */
function assertPartition(days: string[], split: TimeSplit): void {
  assert.deepEqual([...split.train.days, ...split.validation.days, ...split.test.days], days);
  for (const part of [split.train, split.validation, split.test]) {
    assert.ok(part.days.length >= 1);
    assert.equal(part.from, part.days[0]);
    assert.equal(part.to, part.days[part.days.length - 1]);
  }
  assert.ok(split.train.to < split.validation.from && split.validation.to < split.test.from);
}

describe('time split', () => {
  it('gives 3 days one each', () => {
    const days = daysOf(3);
    const split = splitDays(days, DEFAULT);
    assert.deepEqual(sizes(split), [1, 1, 1]);
    assert.deepEqual(split.validation, { from: '2024-01-02', to: '2024-01-02', days: ['2024-01-02'] });
    assertPartition(days, split);
  });

  it('floors validation and test and gives train the remainder', () => {
    // 10 x 0.15 = 1.5 -> 1; train 8.
    assert.deepEqual(sizes(splitDays(daysOf(10), DEFAULT)), [8, 1, 1]);
    // 52 x 0.15 = 7.8 -> 7; train 38.
    const days = daysOf(52);
    const split = splitDays(days, DEFAULT);
    assert.deepEqual(sizes(split), [38, 7, 7]);
    assert.deepEqual(
      [split.train.from, split.train.to, split.validation.from, split.test.to],
      ['2024-01-01', '2024-02-07', '2024-02-08', '2024-02-21'],
    );
    assertPartition(days, split);
    assert.deepEqual(sizes(splitDays(daysOf(20), { train: 0.5, validation: 0.25, test: 0.25 })), [10, 5, 5]);
  });

  it('does not lose a day to float error in the product', () => {
    // 0.29 x 100 = 28.999999999999996 in floating point.
    assert.deepEqual(sizes(splitDays(daysOf(100), { train: 0.42, validation: 0.29, test: 0.29 })), [42, 29, 29]);
  });

  it('keeps train at least one day under lopsided fractions', () => {
    assert.deepEqual(sizes(splitDays(daysOf(3), { train: 0.05, validation: 0.05, test: 0.9 })), [1, 1, 1]);
    assert.deepEqual(sizes(splitDays(daysOf(4), { train: 0.1, validation: 0.1, test: 0.8 })), [1, 1, 2]);
    assert.deepEqual(sizes(splitDays(daysOf(5), { train: 0.02, validation: 0.49, test: 0.49 })), [1, 2, 2]);
  });

  it('never overlaps or leaves a gap, for any length and fractions', () => {
    const fractions: SplitFractions[] = [
      DEFAULT,
      { train: 0.6, validation: 0.2, test: 0.2 },
      { train: 0.1, validation: 0.45, test: 0.45 },
      { train: 0.98, validation: 0.01, test: 0.01 },
    ];
    for (let n = 3; n <= 120; n++) {
      for (const f of fractions) {
        const days = daysOf(n);
        const split = splitDays(days, f);
        assertPartition(days, split);
        // Unless the one-day minimums kicked in, train gets at least its share.
        if (f.validation * n >= 1 && f.test * n >= 1)
          assert.ok(split.train.days.length >= f.train * n, `train too small for n=${n} ${JSON.stringify(f)}`);
      }
    }
  });

  it("works on days with calendar gaps (days are the data's days)", () => {
    const days = ['2024-01-01', '2024-01-05', '2024-02-01', '2024-03-01'];
    assertPartition(days, splitDays(days, DEFAULT));
  });

  it('refuses fewer than 3 days, unsorted days and bad fractions', () => {
    assert.throws(() => splitDays(daysOf(2), DEFAULT), /at least 3 days .* got 2/);
    assert.throws(() => splitDays([], DEFAULT), /got 0/);
    assert.throws(() => splitDays(['2024-01-02', '2024-01-01', '2024-01-03'], DEFAULT), /distinct and ascending/);
    assert.throws(() => splitDays(['2024-01-01', '2024-01-01', '2024-01-03'], DEFAULT), /distinct and ascending/);
    assert.throws(() => splitDays(daysOf(5), { train: 1, validation: 0, test: 0 }), /fraction train/);
  });
});
