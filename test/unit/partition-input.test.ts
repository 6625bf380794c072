import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkPartitionInput, type ExtractedPartition } from '../../src/features/partition-input';
import { loadSpec } from '../../src/specs';

/** The input freshness check for both kinds of event time: timestamps (flights) and dates (weather). */
const freshness = (spec: string, partition: string, newestEvent: string | null, partitionRows = 2) => {
  const { contract, featureSet } = loadSpec(spec);
  const extracted: ExtractedPartition = { partitionRows, historyRows: 14, historyDays: 7, newestEvent };
  return checkPartitionInput(featureSet!, contract, partition, extracted, []).find((c) => c.gate === 'freshness')!;
};

describe('partition input freshness', () => {
  test('timestamped events: the input must reach the last hour of the partition day', () => {
    assert.equal(freshness('flights', '2001-01-10', '2001-01-10T23:05:00.000Z').verdict, 'pass');
    assert.equal(freshness('flights', '2001-01-10', '2001-01-11T06:00:00.000Z').verdict, 'pass');
    const early = freshness('flights', '2001-01-10', '2001-01-10T18:00:00.000Z');
    assert.equal(early.verdict, 'fail', 'a day delivered up to 18:00 is still filling');
    assert.match(early.detail, /before the end of 2001-01-10/);
  });

  test('dated events: a row stamped at the midnight of the partition day is the whole day, so the newest day of an input is computable', () => {
    // weather.csv ends on 2015-12-31, stamped 2015-12-31T00:00: that day used to fail for ever.
    assert.equal(freshness('weather', '2015-12-31', '2015-12-31T00:00:00.000Z').verdict, 'pass');
    assert.equal(freshness('weather', '2015-12-30', '2015-12-31T00:00:00.000Z').verdict, 'pass');
    assert.equal(
      freshness('weather', '2016-01-01', '2015-12-31T00:00:00.000Z', 0).verdict,
      'fail',
      'a day after the input ends has no rows',
    );
    assert.equal(freshness('weather', '2015-12-31', null, 0).verdict, 'fail');
  });
});
