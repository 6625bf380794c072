import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { sqlString } from '../../src/data/duckdb';
import { ingestionHarness } from '../helpers/ingestion-harness';
import { freshAsOf, query, writeSource } from '../helpers/sources';

const { config, artifacts, ingest } = ingestionHarness('ingest-text');

describe('text sources keep malformed lines as dead letters', () => {
  test('CSV with a broken line and JSON lines with a non-JSON line reconcile', async () => {
    const base = await writeSource(
      config,
      'text-base.csv',
      `SELECT strftime(date, '%Y-%m-%d %H:%M:%S') AS date, delay, distance, origin, destination FROM flights LIMIT 3000`,
    );
    const asOf = await freshAsOf(config, base);
    fs.appendFileSync(
      path.join(config.dataDir, base),
      '2001-01-01 10:00:00,5,300,LAX\n2001-01-01 11:00:00,abc,300,LAX,SFO\n',
    );
    const csv = await ingest('csv-broken', base, asOf);
    assert.equal(csv.result.rowsRead, 3002);
    assert.equal(csv.result.rowsAccepted + csv.result.rowsRejected, csv.result.rowsRead);
    const csvDead = await query<{ reason: string }>(
      `SELECT reason FROM read_parquet(${sqlString(`${await artifacts.open(csv.result.deadLettersUri)}/*.parquet`)}) ORDER BY reason`,
    );
    assert.equal(csv.result.rowsRejected, 2);
    assert.equal(csvDead.length, 2);
    assert.match(csvDead[0]!.reason, /^\* malformed \(line 3002: /, 'the short line is kept with its line number');
    assert.equal(csvDead[1]!.reason, 'delay type (abc)', 'the unparseable delay is a type dead letter');

    const jsonl = await writeSource(
      config,
      'text.jsonl',
      `SELECT strftime(date, '%Y-%m-%d %H:%M:%S') AS date, delay, distance, origin, destination FROM flights LIMIT 3000`,
    );
    fs.appendFileSync(path.join(config.dataDir, jsonl), 'this is not json\n');
    const j = await ingest('jsonl-broken', jsonl, asOf);
    assert.equal(j.result.rowsRead, 3001);
    assert.equal(j.result.rowsRejected, 1);
    assert.equal(j.result.rowsAccepted, 3000);
  });
});

describe('unreadable sources fail at once, for good', () => {
  test('a truncated Parquet file is SourceUnreadable, not retried', async () => {
    const whole = await writeSource(config, 'whole.parquet', 'SELECT * FROM flights LIMIT 1000');
    const bytes = fs.readFileSync(path.join(config.dataDir, whole));
    fs.writeFileSync(
      path.join(config.dataDir, 'sources', 'truncated.parquet'),
      bytes.subarray(0, Math.floor(bytes.length / 2)),
    );
    const started = Date.now();
    const error = await ingest('truncated', 'sources/truncated.parquet', '2001-01-02T00:00:00Z').then(
      () => assert.fail('a truncated file must not ingest'),
      (e: Error) => e,
    );
    const cause = error.cause as Error & { type?: string };
    assert.equal(cause.type, 'SourceUnreadable');
    assert.match(cause.message, /source cannot be read: Invalid Input Error/);
    assert.ok(Date.now() - started < 20_000, 'no retries with backoff');
  });
});
