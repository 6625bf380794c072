import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ingestionHarness } from '../helpers/ingestion-harness';
import { seedFlightsTable, startPostgres, type TestPostgres } from '../helpers/postgres';
import { query } from '../helpers/sources';
import { sqlString } from '../../src/data/duckdb';

/** The warehouse case: a PostgreSQL table streamed through a server-side cursor, checked row by row. */
const { ingest, artifacts } = ingestionHarness('ingest-pg');
let postgres: TestPostgres;
const ROWS = 4_000;

before(async () => {
  postgres = await startPostgres();
  await seedFlightsTable(postgres.url, ROWS, (rows) => {
    rows[10]!.origin = 'QQQ'; // one row a warehouse would happily hold, and the contract refuses
  });
});
after(async () => postgres?.stop());

describe('a PostgreSQL table as a source', () => {
  test('is read in full, reconciled, and its bad row kept as a dead letter (the unknown airport stops the batch)', async () => {
    const source = `${postgres.url}?table=public.flights`;
    await assert.rejects(
      ingest('pg-1', source, '2001-01-02T00:00:00Z'),
      (error: Error & { cause?: { type?: string; details?: unknown[] } }) => {
        assert.equal(error.cause?.type, 'DataQualityGateFailed');
        const report = (
          error.cause?.details?.[0] as { report: { checks: { gate: string; subject: string; verdict: string }[] } }
        ).report;
        assert.ok(
          report.checks.some(
            (c) => c.gate === 'referentialIntegrity' && c.subject === 'origin' && c.verdict === 'fail',
          ),
        );
        const reconciliation = report.checks.filter((c) => c.gate === 'reconciliation');
        assert.ok(
          reconciliation.length > 0 && reconciliation.every((c) => c.verdict === 'pass'),
          'rows read = accepted + rejected = source rows',
        );
        return true;
      },
    );
    const staged = artifacts.stagingDir({ kind: 'dead-letters', name: 'flights', version: '1.0.0', partition: 'pg-1' });
    const dead = await query<{ reason: string; record: string }>(
      `SELECT reason, record FROM read_parquet(${sqlString(`${staged}/*.parquet`)})`,
    );
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.reason, 'origin reference (QQQ)');
    assert.equal(JSON.parse(dead[0]!.record).origin, 'QQQ');
  });
});
