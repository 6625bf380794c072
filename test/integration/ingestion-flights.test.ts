import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sqlString } from '../../src/data/duckdb';
import { ingestionHarness } from '../helpers/ingestion-harness';
import { query } from '../helpers/sources';
import { saveHistory } from '../helpers/histories';

const { artifacts, ingest } = ingestionHarness('ingest-full');

describe('ingesting the bundled flights-3m', () => {
  test('counts reconcile, every rejected row is a dead letter with its reason, and a re-run gives the same output', async () => {
    const asOf = '2001-07-02T00:00:00Z';
    const first = await ingest('full', undefined, asOf);
    const r = first.result;
    assert.equal(r.sourceRows, 3_000_000);
    assert.equal(r.rowsRead, 3_000_000);
    assert.equal(r.rowsRead, r.rowsAccepted + r.rowsRejected);
    assert.equal(r.rowsRejected, 2, 'the two delays below -720 minutes');

    const datasetFiles = await artifacts.parquetFiles(await artifacts.open(r.datasetUri));
    const [accepted] = await query<{ n: number }>(
      `SELECT count(*) AS n FROM read_parquet([${datasetFiles.map(sqlString).join(',')}])`,
    );
    assert.equal(accepted!.n, r.rowsAccepted);
    const deadFiles = await artifacts.parquetFiles(await artifacts.open(r.deadLettersUri));
    const dead = await query<{ source_row: number; reason: string; record: string }>(
      `SELECT source_row, reason, record FROM read_parquet([${deadFiles.map(sqlString).join(',')}]) ORDER BY source_row`,
    );
    assert.equal(dead.length, r.rowsRejected);
    for (const row of dead) {
      assert.match(row.reason, /^delay range \(-\d+\)$/);
      assert.ok(JSON.parse(row.record).delay < -720);
    }
    await saveHistory('ingestion-flights-full', first.handle);

    const again = await ingest('full', undefined, asOf);
    assert.equal(again.result.outputHash, r.outputHash, 'same batch, same content hash');
    const [afterRerun] = await query<{ n: number }>(
      `SELECT count(*) AS n FROM read_parquet([${(await artifacts.parquetFiles(await artifacts.open(r.datasetUri))).map(sqlString).join(',')}])`,
    );
    assert.equal(afterRerun!.n, r.rowsAccepted, 're-running a batch never duplicates rows');
  });
});
