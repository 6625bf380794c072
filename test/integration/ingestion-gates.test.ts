import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { before } from 'node:test';
import { sqlString } from '../../src/data/duckdb';
import { failing, ingestionHarness } from '../helpers/ingestion-harness';
import { freshAsOf, query, writeSource } from '../helpers/sources';
import { saveHistory } from '../helpers/histories';

const { config, artifacts, ingest, ingestExpectingStop, alertsFor } = ingestionHarness('ingest-gates');

describe('bad batches stop with a clear report, an alert, and nothing published', () => {
  let sample: string;
  let asOf: string;
  before(async () => {
    sample = await writeSource(config, 'week1.parquet', `SELECT * FROM flights WHERE date < TIMESTAMP '2001-01-08'`);
    asOf = await freshAsOf(config, sample);
    await ingest('week1', sample, asOf); // the volume baseline
  });

  test('a drop that silently lost 2% of its rows fails the volume gate', async () => {
    const short = await writeSource(
      config,
      'week1-short.parquet',
      `SELECT * EXCLUDE (file_row_number) FROM read_parquet(${sqlString(path.join(config.dataDir, 'sources', 'week1.parquet'))}, file_row_number = true) WHERE file_row_number % 50 <> 3`,
    );
    const stop = await ingestExpectingStop('week1-short', short, asOf);
    assert.equal(stop.type, 'DataQualityGateFailed');
    const [volume] = failing(stop.report, 'volume');
    assert.ok(volume, 'the volume check failed');
    assert.match(volume.detail, /median/);
    assert.match(stop.message, /volume/);
    const alerts = await alertsFor(stop.handle.workflowId);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.code, 'DataQualityGateFailed');
    assert.match(alerts[0]!.uiUrl ?? '', /\/workflows\/ingest%2Fflights%2Fweek1-short/);
    assert.match(alerts[0]!.observed ?? '', /^volume\(dataset\): /, 'the alert says what was observed');
    assert.match(alerts[0]!.expected ?? '', /median/, 'and what was expected');
    await saveHistory('ingestion-volume-stop', stop.handle);
  });

  test('a renamed column is a contract violation naming both names', async () => {
    const renamed = await writeSource(
      config,
      'renamed.parquet',
      `SELECT date, delay AS arrival_delay, distance, origin, destination FROM flights LIMIT 5000`,
    );
    const stop = await ingestExpectingStop('renamed', renamed, asOf);
    assert.equal(stop.type, 'DataContractViolation');
    assert.deepEqual(
      stop.differences?.map((d) => [d.change, d.column]),
      [['renamed', 'delay']],
    );
    assert.match(stop.message, /arrival_delay/);
    assert.equal((await alertsFor(stop.handle.workflowId)).length, 1);
  });

  test('a retyped column is a contract violation', async () => {
    const retyped = await writeSource(
      config,
      'retyped.parquet',
      `SELECT date, CAST(delay AS VARCHAR) AS delay, distance, origin, destination FROM flights LIMIT 5000`,
    );
    const stop = await ingestExpectingStop('retyped', retyped, asOf);
    assert.equal(stop.type, 'DataContractViolation');
    assert.deepEqual(
      stop.differences?.map((d) => [d.change, d.column]),
      [['retyped', 'delay']],
    );
    assert.match(stop.message, /delay: contract says integer, source has VARCHAR/);
  });

  test('an unknown airport fails referential integrity, and its rows are dead letters with the reason', async () => {
    const unknown = await writeSource(
      config,
      'unknown-airport.parquet',
      `SELECT date, delay, distance, CASE WHEN file_row_number % 1000 = 0 THEN 'QQQ' ELSE origin END AS origin, destination
       FROM read_parquet(${sqlString(path.join(config.dataDir, 'sources', 'week1.parquet'))}, file_row_number = true)`,
    );
    const stop = await ingestExpectingStop('unknown-airport', unknown, asOf);
    assert.equal(stop.type, 'DataQualityGateFailed');
    const [ri] = failing(stop.report, 'referentialIntegrity');
    assert.equal(ri?.subject, 'origin');
    const deadDir = artifacts.stagingDir({
      kind: 'dead-letters',
      name: 'flights',
      version: '1.0.0',
      partition: 'unknown-airport',
    });
    const reasons = await query<{ reason: string; n: number }>(
      `SELECT reason, count(*) AS n FROM read_parquet(${sqlString(`${deadDir}/*.parquet`)}) GROUP BY reason`,
    );
    assert.equal(reasons.length, 1);
    assert.equal(reasons[0]!.reason, 'origin reference (QQQ)');
    assert.ok(reasons[0]!.n > 0);
  });

  test('a null spike fails completeness (CSV source, nulls as empty fields)', async () => {
    const nulls = await writeSource(
      config,
      'null-spike.csv',
      `SELECT strftime(date, '%Y-%m-%d %H:%M:%S') AS date, CASE WHEN file_row_number % 20 = 0 THEN NULL ELSE delay END AS delay, distance, origin, destination
       FROM read_parquet(${sqlString(path.join(config.dataDir, 'sources', 'week1.parquet'))}, file_row_number = true)`,
    );
    const stop = await ingestExpectingStop('null-spike', nulls, asOf);
    assert.equal(stop.type, 'DataQualityGateFailed');
    const [completeness] = failing(stop.report, 'completeness');
    assert.equal(completeness?.subject, 'delay');
    assert.match(completeness!.observed, /0\.05/);
  });

  test('a stale source fails freshness', async () => {
    const stale = new Date(new Date(asOf).getTime() + 30 * 24 * 3600 * 1000).toISOString();
    const stop = await ingestExpectingStop('stale', sample, stale);
    assert.equal(stop.type, 'DataQualityGateFailed');
    const [freshness] = failing(stop.report, 'freshness');
    assert.ok(freshness, 'the freshness check failed');
    assert.match(freshness.detail, /h/);
  });
});
