import type { Client } from '@temporalio/client';
import type { Config } from '../../src/config';
import { startIngestion } from '../../src/client/ingestion';
import { startBackfill } from '../../src/client/features';
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
