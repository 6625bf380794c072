import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { evaluateGates, type BaselineBatch, type GateInput } from '../../src/quality/gates';
import {
  formatGateReport,
  summarizeFailures,
  type GateCheck,
  type GateReport,
  type IngestStats,
} from '../../src/quality/gate-report';
import { formatNumber } from '../../src/quality/gate-math';
import { ContractSchema } from '../../src/specs/contract-schema';
import { loadSpec } from '../../src/specs';

const FLIGHTS = path.resolve(__dirname, '../../node_modules/vega-datasets/data/flights-3m.parquet');
const contract = loadSpec('flights').contract;

let instance: DuckDBInstance;
let conn: DuckDBConnection;
let dir: string;
/** The last full week of real flights (2001-06-24..30, in-range delays): the clean batch every case starts from. */
let week: string;
let weekRows: number;

async function copyTo(file: string, select: string): Promise<number> {
  const target = path.join(dir, file);
  await conn.run(`COPY (${select}) TO '${target}' (FORMAT parquet)`);
  const reader = await conn.runAndReadAll(`SELECT count(*) AS n FROM read_parquet('${target}')`);
  const rows = Number(reader.getRowObjectsJS()[0]!.n);
  return rows;
}

/** Stats of a clean ingestion of n rows, with overrides for the defect under test. */
function cleanStats(n: number, overrides: Partial<IngestStats> = {}): IngestStats {
  const nullCounts = Object.fromEntries(contract.columns.map((c) => [c.name, 0]));
  return { sourceRows: n, rowsRead: n, rowsAccepted: n, rowsRejected: 0, nullCounts, ruleCounts: {}, ...overrides };
}

/** The baseline the volume gates are handed: these published batches, whatever the lookback. */
function baselineOf(...batches: BaselineBatch[]): GateInput['loadBaseline'] {
  return async () => batches;
}

function run(overrides: Partial<GateInput> = {}): Promise<GateReport> {
  return evaluateGates({
    conn,
    contract,
    batchId: 'test-batch',
    acceptedFiles: [week],
    stats: cleanStats(weekRows),
    loadBaseline: baselineOf({ batchId: 'earlier', rowsAccepted: weekRows, files: [week] }),
    referenceFiles: [week],
    asOf: new Date('2001-07-01T12:00:00Z'),
    ...overrides,
  });
}

function find(report: GateReport, gate: GateCheck['gate'], subject = 'dataset'): GateCheck {
  const check = report.checks.find((c) => c.gate === gate && c.subject === subject);
  assert.ok(check, `no ${gate}(${subject}) check in\n${formatGateReport(report)}`);
  return check;
}

/** The batch stops, the named check is the reason, and the formatted report shows its subject and observation. */
function assertBlockedBy(report: GateReport, gate: GateCheck['gate'], subject = 'dataset'): GateCheck {
  const check = find(report, gate, subject);
  assert.equal(report.passed, false);
  assert.ok(report.blockingFailures > 0);
  assert.equal(check.verdict, 'fail', formatGateReport(report));
  assert.equal(check.severity, 'blocking');
  const label = subject === 'dataset' ? gate : `${gate}(${subject})`;
  assert.ok(summarizeFailures(report).includes(`${label}: ${check.detail}`));
  assert.ok(formatGateReport(report).includes(check.observed));
  return check;
}

before(async () => {
  instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quality-gates-'));
  week = path.join(dir, 'week.parquet');
  weekRows = await copyTo(
    'week.parquet',
    `SELECT * FROM read_parquet('${FLIGHTS}')
     WHERE "date" >= '2001-06-24' AND "date" < '2001-07-01' AND delay BETWEEN -720 AND 2880 ORDER BY "date"`,
  );
});

after(() => {
  conn.closeSync();
  instance.closeSync();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('quality gates on a clean batch', () => {
  it('passes every check of the flights contract', async () => {
    const report = await run();
    assert.ok(weekRows > 100_000);
    assert.deepEqual(
      report.checks.filter((c) => c.verdict !== 'pass'),
      [],
      formatGateReport(report),
    );
    assert.deepEqual(
      [...new Set(report.checks.map((c) => c.gate))],
      [
        'reconciliation',
        'completeness',
        'volume',
        'segmentVolume',
        'freshness',
        'uniqueness',
        'rejectRate',
        'referentialIntegrity',
        'distribution',
      ],
    );
    assert.equal(find(report, 'distribution', 'distance').observed, 'PSI 0 (10 reference-decile bins)');
    assert.equal(report.passed, true);
  });

  it('skips volume without history and distribution without a published batch', async () => {
    const report = await run({ loadBaseline: baselineOf(), referenceFiles: undefined });
    assert.equal(find(report, 'volume').verdict, 'skipped');
    assert.equal(find(report, 'volume').detail, 'no baseline yet (0 earlier runs)');
    assert.equal(find(report, 'distribution', 'delay').detail, 'no earlier published batch');
    assert.equal(report.passed, true);
  });

  it('leaves out gates the contract does not configure, but always reconciles', async () => {
    const report = await evaluateGates({
      conn,
      contract: { ...contract, gates: {} },
      batchId: 'b',
      acceptedFiles: [week],
      stats: cleanStats(weekRows),
      loadBaseline: baselineOf(),
      asOf: new Date('2001-07-01T12:00:00Z'),
    });
    assert.deepEqual(
      report.checks.map((c) => `${c.gate}(${c.subject})`),
      [
        'reconciliation(dataset)',
        'reconciliation(dataset)',
        'referentialIntegrity(origin)',
        'referentialIntegrity(destination)',
      ],
    );
  });
});

describe('quality gates stop a bad batch', () => {
  it('volume: 2% of rows missing against the full count', async () => {
    const rows = await copyTo(
      'shrunk.parquet',
      `SELECT * EXCLUDE (i) FROM (SELECT *, row_number() OVER () AS i FROM read_parquet('${week}')) WHERE i % 50 <> 0`,
    );
    const report = await run({ acceptedFiles: [path.join(dir, 'shrunk.parquet')], stats: cleanStats(rows) });
    const check = assertBlockedBy(report, 'volume');
    assert.equal(check.observed, `rows ${rows}`);
    assert.equal(check.expected, `within [0.99, 1.5] x median ${weekRows}`);
    assert.equal(report.blockingFailures, 1);
  });

  it('completeness: a null spike in delay', async () => {
    const nulls = Math.round(weekRows * 0.05);
    const stats = cleanStats(weekRows, {
      rowsAccepted: weekRows - nulls,
      rowsRejected: nulls,
      nullCounts: { ...cleanStats(0).nullCounts, delay: nulls },
      ruleCounts: { 'delay:not_null': nulls },
    });
    const report = await run({ stats });
    const check = assertBlockedBy(report, 'completeness', 'delay');
    assert.equal(check.observed, `null rate 0.05 (${nulls} of ${weekRows})`);
    assert.equal(find(report, 'completeness', 'distance').verdict, 'pass');
    assert.match(find(report, 'rejectRate').observed, /most: delay:not_null/);
  });

  it('freshness: stale data, and event times in the future', async () => {
    const stale = assertBlockedBy(await run({ asOf: new Date('2001-08-01T00:00:00Z') }), 'freshness');
    assert.match(stale.observed, /^newest 2001-06-30 \d\d:\d\d:\d\d, age 7\d\d(\.\d+)? h$/);
    const future = assertBlockedBy(await run({ asOf: new Date('2001-06-01T00:00:00Z') }), 'freshness');
    assert.match(future.detail, /^event times in the future: newest 2001-06-30/);
  });

  it('uniqueness: the same batch ingested twice', async () => {
    const again = path.join(dir, 'week-again.parquet');
    fs.copyFileSync(week, again);
    const report = await run({ acceptedFiles: [week, again], stats: cleanStats(2 * weekRows) });
    const check = assertBlockedBy(report, 'uniqueness');
    assert.match(check.observed, /^duplicate rate 0\.5\d* \(\d+ of \d+ on \(date, origin, destination\)\)$/);
    assertBlockedBy(report, 'volume');
  });

  it('referentialIntegrity: an unknown airport', async () => {
    const stats = cleanStats(weekRows + 12, {
      rowsAccepted: weekRows,
      rowsRejected: 12,
      ruleCounts: { 'origin:reference': 12 },
    });
    const report = await run({ stats });
    const check = assertBlockedBy(report, 'referentialIntegrity', 'origin');
    assert.match(
      check.observed,
      new RegExp(`^missing rate [\\d.e-]+ \\(12 of ${weekRows + 12} not in airports\\.csv\\.iata\\)$`),
    );
    assert.equal(find(report, 'referentialIntegrity', 'destination').verdict, 'pass');
    assert.equal(report.blockingFailures, 1, 'a 0.01% reject rate alone is tolerated');
  });

  it('rejectRate: too many rows rejected', async () => {
    const rejected = Math.ceil(weekRows * 0.005);
    const stats = cleanStats(weekRows + rejected, {
      rowsAccepted: weekRows,
      rowsRejected: rejected,
      ruleCounts: { 'distance:range': rejected },
    });
    const check = assertBlockedBy(await run({ stats }), 'rejectRate');
    assert.match(
      check.observed,
      new RegExp(
        `^reject rate 0\\.00\\d+ \\(${rejected} of ${weekRows + rejected}; most: distance:range ${rejected}\\)$`,
      ),
    );
  });

  it('reconciliation: rows unaccounted for', async () => {
    const report = await run({ stats: cleanStats(weekRows, { sourceRows: weekRows + 100, rowsRejected: 5 }) });
    const failed = report.checks.filter((c) => c.gate === 'reconciliation' && c.verdict === 'fail');
    assert.deepEqual(
      failed.map((c) => c.detail),
      [`read ${weekRows} != accepted ${weekRows} + rejected 5`, `source ${weekRows + 100} != read ${weekRows}`],
    );
    assert.equal(report.passed, false);
  });

  it('an empty batch runs every gate and fails on volume and freshness', async () => {
    const report = await run({ acceptedFiles: [], stats: cleanStats(0) });
    assertBlockedBy(report, 'volume');
    assert.equal(assertBlockedBy(report, 'freshness').observed, 'no event times');
    assert.equal(find(report, 'distribution', 'distance').verdict, 'skipped');
  });
});

describe('quality gate warnings', () => {
  it('distribution: a shifted distance warns without stopping the batch', async () => {
    await copyTo('shifted.parquet', `SELECT * REPLACE (distance + 400 AS distance) FROM read_parquet('${week}')`);
    const report = await run({ acceptedFiles: [path.join(dir, 'shifted.parquet')] });
    const check = find(report, 'distribution', 'distance');
    assert.equal(check.verdict, 'fail');
    assert.equal(check.severity, 'warning');
    assert.ok(Number(/^PSI ([\d.]+)/.exec(check.observed)![1]) > 0.25, check.observed);
    assert.equal(find(report, 'distribution', 'delay').observed, 'PSI 0 (10 reference-decile bins)');
    assert.equal(report.warnings, 1);
    assert.equal(report.passed, true);
  });

  it('segmentVolume: lists at most 20 thin days plus a summary', async () => {
    // January and late February at 5% of real volume, 1-25 February at 0.25%: 25 thin days out of 59.
    const rows = await copyTo(
      'thin-days.parquet',
      `SELECT * EXCLUDE (i) FROM (SELECT *, row_number() OVER () AS i FROM read_parquet('${FLIGHTS}') WHERE "date" < '2001-03-01')
       WHERE i % 20 = 0 AND (month("date") = 1 OR day("date") > 25 OR i % 400 = 0)`,
    );
    const report = await run({
      acceptedFiles: [path.join(dir, 'thin-days.parquet')],
      stats: cleanStats(rows),
      loadBaseline: baselineOf(),
    });
    const segments = report.checks.filter((c) => c.gate === 'segmentVolume');
    assert.equal(segments.length, 21);
    assert.ok(
      segments.slice(0, 20).every((c) => /^2001-02-(0[1-9]|1\d|2[0-5])$/.test(c.subject) && c.verdict === 'fail'),
    );
    assert.equal(segments[20]!.subject, 'dataset');
    assert.equal(segments[20]!.observed, '25 of 59 days low');
    assert.match(segments[20]!.detail, /^5 more days below 0\.2 x median day/);
  });
});

describe('volume by segment', () => {
  /** Only the per-airport gate, so each case reads its verdict alone. */
  const byOrigin = ContractSchema.parse({
    ...contract,
    gates: { volumeBySegment: [{ column: 'origin', minRatio: 0.6, minExpectedRows: 400 }] },
  });
  /** The same week as published before: the baseline of every case. */
  const earlierWeek = (): BaselineBatch => ({ batchId: 'earlier', rowsAccepted: weekRows, files: [week] });
  const judge = async (file: string, rows: number, baseline: BaselineBatch[]) =>
    evaluateGates({
      conn,
      contract: byOrigin,
      batchId: 'this-week',
      acceptedFiles: [path.join(dir, file)],
      stats: cleanStats(rows),
      loadBaseline: baselineOf(...baseline),
      asOf: new Date('2001-07-01T12:00:00Z'),
    });
  const originRows = async (origin: string) =>
    Number(
      (
        await conn.runAndReadAll(`SELECT count(*) AS n FROM read_parquet('${week}') WHERE origin = '${origin}'`)
      ).getRowObjectsJS()[0]!.n,
    );

  it('stops a batch that lost half of one busy airport, naming it, observed against expected', async () => {
    const ord = await originRows('ORD');
    const rows = await copyTo(
      'half-ord.parquet',
      `SELECT * EXCLUDE (i) FROM (SELECT *, row_number() OVER (ORDER BY date, origin, destination) AS i FROM read_parquet('${week}'))
       WHERE origin <> 'ORD' OR i % 2 = 0`,
    );
    const kept = ord - (weekRows - rows);
    // ORD's share of the earlier week times this week's rows: a loss of 3% of the whole is half of ORD.
    const expected = (ord / weekRows) * rows;
    const report = await judge('half-ord.parquet', rows, [earlierWeek()]);
    const check = assertBlockedBy(report, 'volumeBySegment', 'origin=ORD');
    assert.equal(check.observed, `rows ${kept}`);
    assert.equal(check.expected, `>= 0.6 x expected ${formatNumber(expected)}`);
    assert.match(
      check.detail,
      /^origin ORD: rows \d+ of expected [\d.]+ \(0\.5\d*; median share [\d.]+% of 1 earlier run, times \d+ rows\) < 0\.6 x expected$/,
    );
    assert.equal(report.blockingFailures, 1, formatGateReport(report));
  });

  it('lets a batch thinner everywhere pass (a holiday), and names its lowest segment', async () => {
    const rows = await copyTo(
      'thinner.parquet',
      `SELECT * EXCLUDE (i) FROM (SELECT *, row_number() OVER (ORDER BY date, origin, destination) AS i FROM read_parquet('${week}'))
       WHERE i % 3 <> 0`,
    );
    const report = await judge('thinner.parquet', rows, [earlierWeek()]);
    const check = find(report, 'volumeBySegment', 'origin');
    assert.equal(check.verdict, 'pass', formatGateReport(report));
    assert.match(check.observed, /^lowest [A-Z]{3} 0\.9\d* of expected$/);
    assert.equal(report.passed, true);
  });

  it("an empty batch fails every judged segment, against the baseline's usual size", async () => {
    const rows = await copyTo('no-rows.parquet', `SELECT * FROM read_parquet('${week}') WHERE false`);
    const report = await judge('no-rows.parquet', rows, [earlierWeek()]);
    const failed = report.checks.filter((c) => c.gate === 'volumeBySegment' && c.verdict === 'fail');
    assert.ok(failed.length > 20, `${failed.length} segments failed`);
    assert.match(failed[0]!.detail, new RegExp(`times ${weekRows} rows\\)`));
  });

  it('a segment that vanished is a segment at 0 rows; without a baseline the gate is skipped', async () => {
    const rows = await copyTo('no-ord.parquet', `SELECT * FROM read_parquet('${week}') WHERE origin <> 'ORD'`);
    const gone = assertBlockedBy(await judge('no-ord.parquet', rows, [earlierWeek()]), 'volumeBySegment', 'origin=ORD');
    assert.equal(gone.observed, 'rows 0');
    const first = await judge('no-ord.parquet', rows, []);
    assert.equal(find(first, 'volumeBySegment', 'origin').verdict, 'skipped');
    assert.equal(first.passed, true);
  });
});

describe('distribution PSI in SQL', () => {
  it('bins by right-closed reference deciles and compares categories on their union', async () => {
    // Reference x = 1 x3, 2 x4, 3 x3 has deciles [1, 1, 1.7, 2, 2, 2, 2.3, 3, 3] (linear interpolation), so with
    // right-closed bins the 1s fill bin 0, the 2s bin 3, the 3s bin 7; current x = 1.5 x10 lands in (1, 1.7], bin 2.
    // Bins empty on both sides drop out; an empty bin on one side gets share 1e-4 (src/stats/psi.ts), so over bins
    // [0, 2, 3, 7]: reference [0.3, e, 0.4, 0.3] / (1 + e), current [e, 1, e, e] / (1 + 3e). (Left-closed bins would
    // put the 1s in bin 2 too; quantile_disc edges would put 1.5 with the 2s.)
    // Categories a, b, z: reference [0.5, 0.5, e] / (1 + e) against current [0.5, e, 0.5] / (1 + e).
    const small = ContractSchema.parse({
      name: 'small',
      version: '1.0.0',
      columns: [
        { name: 't', type: 'timestamp' },
        { name: 'x', type: 'double' },
        { name: 'c', type: 'string' },
      ],
      eventTime: 't',
      gates: { distribution: { columns: ['x', 'c'] } },
    });
    const rows = (x: string, c: string) =>
      `SELECT TIMESTAMP '2001-01-01' AS t, ${x} AS x, ${c} AS c FROM range(10) r(i)`;
    await copyTo(
      'small-ref.parquet',
      rows(
        `CASE WHEN i < 3 THEN 1.0 WHEN i < 7 THEN 2.0 ELSE 3.0 END::DOUBLE`,
        `CASE WHEN i < 5 THEN 'a' ELSE 'b' END`,
      ),
    );
    await copyTo('small-cur.parquet', rows('1.5::DOUBLE', `CASE WHEN i < 5 THEN 'a' ELSE 'z' END`));
    const report = await evaluateGates({
      conn,
      contract: small,
      batchId: 'small',
      acceptedFiles: [path.join(dir, 'small-cur.parquet')],
      referenceFiles: [path.join(dir, 'small-ref.parquet')],
      stats: cleanStats(10),
      loadBaseline: baselineOf(),
      asOf: new Date('2001-01-01T00:00:00Z'),
    });
    const psi = (subject: string) => Number(/^PSI ([\d.]+)/.exec(find(report, 'distribution', subject).observed)![1]);
    const e = 1e-4;
    const psiOf = (r: number[], c: number[]) => r.reduce((sum, ri, i) => sum + (ri - c[i]!) * Math.log(ri / c[i]!), 0);
    const expectedX = psiOf(
      [0.3, e, 0.4, 0.3].map((v) => v / (1 + e)),
      [e, 1, e, e].map((v) => v / (1 + 3 * e)),
    );
    const expectedC = psiOf(
      [0.5, 0.5, e].map((v) => v / (1 + e)),
      [0.5, e, 0.5].map((v) => v / (1 + e)),
    );
    assert.ok(
      Math.abs(psi('x') - expectedX) < 1e-3 * expectedX,
      `${find(report, 'distribution', 'x').observed} vs ${expectedX}`,
    );
    assert.ok(
      Math.abs(psi('c') - expectedC) < 1e-3 * expectedC,
      `${find(report, 'distribution', 'c').observed} vs ${expectedC}`,
    );
    assert.match(find(report, 'distribution', 'c').observed, /\(3 categories\)$/);
  });
});

describe('quality gates on the full 3M-row flights file', () => {
  it('passes every blocking gate and warns about 2001-07-01', async () => {
    // What ingestion accepts under the contract's delay >= -720: the file has two such recording errors
    // (-953 on 2001-02-22 and -1116 on 2001-02-27), both rejected by the range rule.
    const rows = await copyTo(
      'flights-accepted.parquet',
      `SELECT * FROM read_parquet('${FLIGHTS}') WHERE delay >= -720`,
    );
    assert.equal(rows, 2_999_998);
    const report = await evaluateGates({
      conn,
      contract,
      batchId: 'full',
      acceptedFiles: [path.join(dir, 'flights-accepted.parquet')],
      stats: cleanStats(3_000_000, { rowsAccepted: 2_999_998, rowsRejected: 2, ruleCounts: { 'delay:range': 2 } }),
      loadBaseline: baselineOf({ batchId: 'earlier', rowsAccepted: 3_000_000, files: [] }),
      asOf: new Date('2001-07-02T00:00:00Z'),
    });
    assert.equal(report.blockingFailures, 0, formatGateReport(report));
    assert.equal(report.passed, true);
    const segments = report.checks.filter((c) => c.gate === 'segmentVolume');
    assert.deepEqual(
      segments.map((c) => [c.subject, c.verdict, c.severity, c.observed]),
      [['2001-07-01', 'fail', 'warning', 'rows 6']],
    );
    assert.equal(report.warnings, 1);
    assert.equal(
      find(report, 'uniqueness').observed,
      'duplicate rate 0.002631 (7892 of 2999998 on (date, origin, destination))',
    );
    assert.equal(find(report, 'freshness').observed, 'newest 2001-07-01 00:00:00, age 24 h');
  });
});
