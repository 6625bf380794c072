import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { startIngestion } from '../../src/client/ingestion';
import { freePort } from '../helpers/ports';
import { freshAsOf, writeSource } from '../helpers/sources';
import { connect, spawnWorker, testConfig, uniqueTaskQueue, waitFor, type WorkerProcess } from '../helpers/temporal';

/**
 * The worker's Prometheus endpoint (MLPIPE_METRICS_ADDRESS), scraped while an ingestion runs and after
 * it: the SDK's own metrics and the pipeline's, with values that add up.
 */
const config = testConfig();
const spawned: WorkerProcess[] = [];
after(() => {
  for (const w of spawned) w.child.kill('SIGKILL');
});

/** Every sample of a metric whose labels include `labels`, as numbers. */
function samples(text: string, metric: string, labels: Record<string, string> = {}): number[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${metric}{`) || line.startsWith(`${metric} `))
    .filter((line) => Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
    .map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)));
}
const total = (text: string, metric: string, labels: Record<string, string> = {}) =>
  samples(text, metric, labels).reduce((a, b) => a + b, 0);

test('the worker serves SDK and pipeline metrics while an ingestion runs, and rows add up after it', async () => {
  const address = `127.0.0.1:${await freePort()}`;
  const taskQueue = uniqueTaskQueue('metrics');
  spawned.push(
    spawnWorker(config, taskQueue, { MLPIPE_METRICS_ADDRESS: address, MLPIPE_INGEST_CHUNK_PAUSE_MS: '300' }),
  );
  const scrape = async () => (await fetch(`http://${address}/metrics`)).text();
  const source = await writeSource(
    config,
    'metrics.parquet',
    `SELECT * FROM flights WHERE date < TIMESTAMP '2001-01-10'`,
  );
  const client = await connect(config);
  try {
    const handle = await startIngestion(client, config, {
      spec: 'flights',
      batch: 'metrics',
      source,
      asOf: await freshAsOf(config, source),
      chunkRows: 20_000,
      taskQueue,
    });

    let during = '';
    await waitFor(
      'two chunks counted on the endpoint',
      async () => {
        during = await scrape().catch(() => '');
        return total(during, 'mlpipe_ingest_chunks_total', { contract: 'flights' }) >= 2;
      },
      60_000,
      100,
    );
    const { status } = await handle.describe();
    assert.equal(status.name, 'RUNNING', 'scraped while the batch was still running');
    assert.ok(total(during, 'mlpipe_ingest_chunk_rows_total') >= 40_000, 'rows of the chunks so far');
    // The SDK's own: activity slots and pollers of this worker.
    assert.ok(samples(during, 'temporal_worker_task_slots_available').length > 0, 'the SDK slot gauge');
    assert.ok(samples(during, 'temporal_num_pollers').length > 0, 'the SDK poller gauge');

    const result = await handle.result();
    const afterRun = await scrape();
    const read = total(afterRun, 'mlpipe_rows_read_total', { contract: 'flights' });
    const accepted = total(afterRun, 'mlpipe_rows_accepted_total', { contract: 'flights' });
    const rejected = total(afterRun, 'mlpipe_rows_rejected_total', { contract: 'flights' });
    assert.equal(read, result.rowsRead);
    assert.equal(accepted, result.rowsAccepted);
    assert.equal(rejected, result.rowsRejected);
    assert.equal(read, accepted + rejected);
    assert.equal(total(afterRun, 'mlpipe_ingest_chunk_rows_total'), result.rowsRead, 'every chunk counted once');
    assert.ok(
      samples(afterRun, 'temporal_activity_execution_latency_count', { activity_type: 'ingestSource' }).length > 0,
      'the SDK times the activities',
    );
  } finally {
    await client.connection.close();
  }
});
