import { after, before } from 'node:test';
import type { Client } from '@temporalio/client';
import type { Config } from '../../src/config';
import { startIngestion } from '../../src/client/ingestion';
import { startBackfill } from '../../src/client/features';
import { openMetadataStore, type MetadataStore } from '../../src/store/database';
import { freshAsOf, writeSource } from './sources';

/**
 * Real flights ingested and their feature partitions published for `from..to` (the 7 days before
 * `from` are the first window's history): what a training run reads.
 */
export async function publishFlightFeatures(
  client: Client,
  config: Config,
  taskQueue: string,
  from: string,
  to: string,
): Promise<void> {
  const source = await writeSource(
    config,
    'train.parquet',
    `SELECT * FROM flights WHERE date < TIMESTAMP '${to}' + INTERVAL 1 DAY`,
  );
  const ingestion = await startIngestion(client, config, {
    spec: 'flights',
    batch: 'train',
    source,
    asOf: await freshAsOf(config, source),
    taskQueue,
  });
  await ingestion.result();
  const backfill = await startBackfill(client, config, { spec: 'flights', from, to, concurrency: 4, taskQueue });
  await backfill.result();
}

/**
 * For a test file of training runs: flight features published for `from..to` before its tests (on the
 * file's worker), and the metadata store open while they run. Read `store` inside tests.
 */
export function useFlightFeatures(
  config: Config,
  temporal: { ready(): Promise<Client> },
  taskQueue: string,
  from: string,
  to: string,
): { readonly store: MetadataStore } {
  let store: MetadataStore | undefined;
  before(async () => {
    await publishFlightFeatures(await temporal.ready(), config, taskQueue, from, to);
    store = await openMetadataStore(config.databaseUrl);
  });
  after(async () => {
    await store?.close();
  });
  return {
    get store() {
      if (!store) throw new Error('useFlightFeatures: the store is open once the before hook has run');
      return store;
    },
  };
}
