import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { sqlString } from '../../src/data/duckdb';
import type { GateReport } from '../../src/quality/gate-report';
import { failing, ingestionHarness } from '../helpers/ingestion-harness';
import { FLIGHTS, freshAsOf, query, writeSource } from '../helpers/sources';

/**
 * The nightly flights (src/specs/flights-nightly.ts) judged like for like: a Monday against the Mondays
 * before it, and each airport against its usual share of the night. A night that lost half of one busy
 * airport's departures looks normal as a whole (3% fewer flights) and is stopped naming the airport.
 */
const { config, artifacts, ingest, ingestExpectingStop, alertsFor } = ingestionHarness(
  'nightly-gates',
  'flights-nightly',
);
const MONDAYS = ['2001-01-08', '2001-01-15', '2001-01-22'];
const NIGHT = '2001-01-29';

/** One night's file: the day's flights in a fixed order, optionally thinned by `keep`. */
async function night(file: string, day: string, keep = 'true'): Promise<{ source: string; asOf: string }> {
  const source = await writeSource(
    config,
    file,
    `SELECT * EXCLUDE (i) FROM (
       SELECT *, row_number() OVER (ORDER BY date, origin, destination, delay, distance) AS i
       FROM flights WHERE CAST(date AS DATE) = DATE ${sqlString(day)})
     WHERE ${keep}`,
  );
  return { source, asOf: await freshAsOf(config, source) };
}

const check = (report: GateReport, gate: string, subject: string) => {
  const found = report.checks.find((c) => c.gate === gate && c.subject === subject);
  assert.ok(found, `no ${gate}(${subject}) check`);
  return found;
};

before(async () => {
  for (const day of MONDAYS) {
    const { source, asOf } = await night(`${day}.parquet`, day);
    await ingest(day, source, asOf);
  }
});

describe('nightly gates', () => {
  test("a night that lost half of ORD's departures is stopped naming ORD, though the night as a whole passes", async () => {
    const { source, asOf } = await night(`${NIGHT}-half-ord.parquet`, NIGHT, `origin <> 'ORD' OR i % 2 = 0`);
    const stop = await ingestExpectingStop(NIGHT, source, asOf);
    assert.equal(stop.type, 'DataQualityGateFailed');
    const [airport, ...others] = failing(stop.report, 'volumeBySegment');
    assert.equal(others.length, 0, 'only ORD is stopped');
    assert.equal(airport?.subject, 'origin=ORD');
    const ord = (file: string) =>
      `SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(file)}) WHERE origin = 'ORD'`;
    const [kept] = await query<{ n: number }>(ord(path.join(config.dataDir, source)));
    const [all] = await query<{ n: number }>(
      ord(FLIGHTS).replace('WHERE', `WHERE CAST(date AS DATE) = DATE '${NIGHT}' AND`),
    );
    assert.ok(Math.abs(2 * kept!.n - all!.n) <= 1, `${kept!.n} is half of ${all!.n}`);
    assert.equal(airport.observed, `rows ${kept!.n}`);
    const [, expected] = /^origin ORD: rows \d+ of expected ([\d.]+) /.exec(airport.detail) ?? [];
    assert.ok(kept!.n < 0.6 * Number(expected), airport.detail);
    assert.match(airport.detail, /median share [\d.]+% of 3 earlier Mondays/);
    const day = check(stop.report!, 'volume', 'dataset');
    assert.equal(day.verdict, 'pass', 'the night as a whole is within its band');
    assert.match(day.detail, /within \[0\.8, 1\.25\] x median \d+ of 3 earlier Mondays$/);
    assert.match(stop.message, /volumeBySegment\(origin=ORD\): origin ORD: rows \d+ of expected/);
    const [alert] = await alertsFor(stop.handle.workflowId);
    assert.match(alert?.observed ?? '', /^volumeBySegment\(origin=ORD\): rows \d+$/);
  });

  test('the whole night, delivered again, is published with every airport within its share', async () => {
    const { source, asOf } = await night(`${NIGHT}.parquet`, NIGHT);
    const { result } = await ingest(NIGHT, source, asOf);
    const report = JSON.parse(fs.readFileSync(artifacts.resolve(result.reportUri), 'utf8')) as GateReport;
    assert.equal(report.blockingFailures, 0);
    const airports = check(report, 'volumeBySegment', 'origin');
    assert.equal(airports.verdict, 'pass');
    assert.match(airports.detail, /^all \d+ origin segments expected >= 400 rows hold >= 0\.6 x expected; lowest /);
  });
});
