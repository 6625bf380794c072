import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { DailyChainResult } from '../../src/api/daily';
import { dailyChainWorkflowId } from '../../src/api/daily';
import { startSensorLook } from '../../src/client/daily';
import { artifactStoreFor } from '../../src/data/open-artifact-store';
import { sqlString } from '../../src/data/duckdb';
import { registerSpec } from '../../src/specs';
import { badInputsDailySpec } from '../fixtures/bad-inputs/spec';
import { startPostgres, type TestPostgres } from '../helpers/postgres';
import { query } from '../helpers/sources';
import { testConfig, uniqueTaskQueue, useWorker } from '../helpers/temporal';

/**
 * A sensor over a warehouse table: each day of the event time is a delivery, chained once as its rows
 * stand; a day whose rows change is delivered again and replaces its partition; an unchanged table
 * delivers nothing.
 */
const spec = registerSpec(badInputsDailySpec);
const config = testConfig();
const taskQueue = uniqueTaskQueue('table-sensor');
const temporal = useWorker(config, taskQueue);
const artifacts = artifactStoreFor(config);
let postgres: TestPostgres;
let table: string;

async function sql(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

const look = async () =>
  (await (await startSensorLook(temporal.client, config, { spec: spec.name, table, taskQueue })).result()).delivered;

const partitionRows = async (day: string) => {
  const dir = await artifacts.openKey({
    kind: 'datasets',
    name: spec.contract.name,
    version: spec.contract.version,
    partition: day,
  });
  return (
    await query<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(`${dir}/*.parquet`)})`)
  )[0]!.n;
};

before(async () => {
  postgres = await startPostgres();
  // A password in the URI (the test cluster trusts local connections and ignores it): never shown.
  table = `${postgres.url.replace('//postgres@', '//postgres:s3cret@')}?table=public.readings`;
  assert.ok(table.includes(':s3cret@'));
  await sql('CREATE TABLE readings (ts timestamp NOT NULL, amount double precision, qty integer, label text)');
  await sql(`INSERT INTO readings VALUES
    ('2024-03-01 01:00', 1.5, 1, 'a'), ('2024-03-01 02:00', 2.5, 2, 'b'),
    ('2024-03-02 01:00', 3.5, 3, 'c'), ('2024-03-02 23:59', 4.5, 4, 'd'), ('2024-03-02 12:00', 5.5, 5, 'e'),
    ('2024-03-03 00:00', 6.5, 6, 'f')`);
  await temporal.ready();
});
after(async () => postgres?.stop());

describe('a sensor over a warehouse table', () => {
  test('each day of the event time is chained once, with its own rows only', async () => {
    const delivered = await look();
    assert.deepEqual(
      delivered.map((d) => d.day),
      ['2024-03-01', '2024-03-02', '2024-03-03'],
    );
    assert.ok(
      delivered.every((d) => d.sourceUri.includes(':[redacted]@') && !d.sourceUri.includes('s3cret')),
      'no password in what the look shows',
    );
    assert.deepEqual(await Promise.all(['2024-03-01', '2024-03-02', '2024-03-03'].map(partitionRows)), [2, 3, 1]);
    const second = (await temporal.client.workflow
      .getHandle(dailyChainWorkflowId(spec.name, '2024-03-02'))
      .result()) as DailyChainResult;
    assert.deepEqual([second.ingestion.rowsRead, second.ingestion.rowsRejected], [3, 0]);
    assert.deepEqual(await look(), [], 'an unchanged table delivers nothing');
  });

  test('a day whose rows changed is delivered again and replaces only itself', async () => {
    await sql(`INSERT INTO readings VALUES ('2024-03-02 13:00', 7.5, 7, 'g')`);
    await sql(`UPDATE readings SET amount = 9.5 WHERE label = 'f'`);
    assert.deepEqual(
      (await look()).map((d) => d.day),
      ['2024-03-02', '2024-03-03'],
    );
    assert.deepEqual(await Promise.all(['2024-03-01', '2024-03-02', '2024-03-03'].map(partitionRows)), [2, 4, 1]);
    const [f] = await query<{ amount: number }>(
      `SELECT amount FROM read_parquet(${sqlString(`${await artifacts.openKey({ kind: 'datasets', name: spec.contract.name, version: spec.contract.version, partition: '2024-03-03' })}/*.parquet`)})`,
    );
    assert.equal(f!.amount, 9.5, 'the changed row as it stands now');
  });
});
