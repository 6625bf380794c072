import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatNumber, median, rate, withinBand } from '../../src/quality/gate-math';
import { buildGateReport, formatGateReport, summarizeFailures } from '../../src/quality/gate-report';
import { completenessChecks, volumeCheck } from '../../src/quality/stats-gates';
import { loadSpec } from '../../src/specs';

describe('median, rate, withinBand', () => {
  it('takes the middle value, averaging the two middle ones on an even count', () => {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    const input = [3, 1, 2];
    median(input);
    assert.deepEqual(input, [3, 1, 2], 'input must not be sorted in place');
    assert.throws(() => median([]), RangeError);
  });

  it('treats an empty whole as a rate of 0', () => {
    assert.equal(rate(5, 0), 0);
    assert.equal(rate(1, 4), 0.25);
  });

  it('keeps a value exactly on the band edge inside', () => {
    assert.equal(withinBand(2_970_000, 3_000_000, 0.99, 1.5), true);
    assert.equal(withinBand(2_969_999, 3_000_000, 0.99, 1.5), false);
    assert.equal(withinBand(4_500_001, 3_000_000, 0.99, 1.5), false);
    assert.equal(withinBand(0, 0, 0.99, 1.5), true);
    assert.equal(withinBand(1, 0, 0.99, 1.5), false);
  });
});

describe('formatting', () => {
  it('prints counts in full and rates to 4 significant digits', () => {
    assert.equal(formatNumber(2_940_000), '2940000');
    assert.equal(formatNumber(7892 / 3_000_000), '0.002631');
    assert.equal(formatNumber(1 / 3), '0.3333');
  });

  const contract = loadSpec('flights').contract;
  const stats = {
    sourceRows: 3_000_000,
    rowsRead: 3_000_000,
    rowsAccepted: 2_940_000,
    rowsRejected: 60_000,
    nullCounts: { date: 0, delay: 150_000, distance: 0, origin: 0, destination: 0 },
    ruleCounts: { 'delay:not_null': 60_000 },
  };
  const checks = [
    ...completenessChecks(contract.gates.completeness!, contract, stats),
    volumeCheck(contract.gates.volume!, stats, [3_000_000], '1 earlier run'),
  ];
  const report = buildGateReport({ contract, batchId: 'b1', asOf: new Date('2001-07-02T00:00:00Z'), checks });

  it('names every blocking failure on one line', () => {
    assert.equal(
      summarizeFailures(report),
      'completeness(delay): null rate 0.05 (150000 of 3000000) > 0.001; volume: rows 2940000 outside [0.99, 1.5] x median 3000000 of 1 earlier run',
    );
    assert.equal(report.blockingFailures, 2);
    assert.equal(report.passed, false);
  });

  it('lists failures first in the table', () => {
    const lines = formatGateReport(report).split('\n');
    assert.match(
      lines[0]!,
      /^quality gates flights@1\.0\.0 batch b1 as of 2001-07-02T00:00:00\.000Z: FAILED \(2 blocking failures/,
    );
    assert.match(lines[1]!, /^VERDICT\s+SEVERITY\s+GATE\s+SUBJECT\s+OBSERVED\s+EXPECTED\s+DETAIL$/);
    assert.match(
      lines[2]!,
      /^FAIL\s+blocking\s+completeness\s+delay\s+null rate 0\.05 \(150000 of 3000000\)\s+<= 0\.001\s/,
    );
    assert.match(
      lines[3]!,
      /^FAIL\s+blocking\s+volume\s+dataset\s+rows 2940000\s+within \[0\.99, 1\.5\] x median 3000000\s/,
    );
    assert.match(lines[4]!, /^PASS\s/);
    assert.equal(lines.length, 2 + checks.length);
  });

  it('says so when nothing blocks', () => {
    const clean = buildGateReport({ contract, batchId: 'b2', asOf: new Date(0), checks: [] });
    assert.equal(summarizeFailures(clean), 'no blocking failures');
    assert.equal(clean.passed, true);
  });
});
