import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { startIngestion } from '../../src/client/ingestion';
import { openMetadataStore } from '../../src/store/database';
import { connect, startWorker, testConfig, uniqueTaskQueue } from '../helpers/temporal';

/** A receiver that fails its first delivery: the alert must arrive anyway, and be stored once. */
const received: Record<string, unknown>[] = [];
let attempts = 0;
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    attempts++;
    if (attempts === 1) {
      res.writeHead(503).end();
      return;
    }
    received.push(JSON.parse(body));
    res.writeHead(204).end();
  });
});

let client: Client;
let worker: { stop(): Promise<void> };
let config: ReturnType<typeof testConfig>;
const taskQueue = uniqueTaskQueue('webhook');

before(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  config = testConfig({ MLPIPE_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts` });
  client = await connect(config);
  worker = await startWorker(config, taskQueue);
});
after(async () => {
  await worker.stop();
  await client.connection.close();
  receiver.close();
});

test('a failed run POSTs its alert to the webhook, retrying a failed delivery, and stores it once', async () => {
  const handle = await startIngestion(client, config, {
    spec: 'flights',
    batch: 'missing',
    source: 'sources/none.parquet',
    taskQueue,
  });
  await assert.rejects(handle.result());
  assert.equal(attempts, 2, 'the first delivery failed and was retried');
  assert.equal(received.length, 1);
  const alert = received[0]!;
  assert.equal(alert.code, 'SourceNotFound');
  assert.equal(alert.severity, 'critical');
  assert.equal(alert.workflowId, 'ingest/flights/missing');
  assert.match(String(alert.message), /no file matches sources\/none\.parquet/);
  assert.match(String(alert.uiUrl), /ingest%2Fflights%2Fmissing/);
  const store = await openMetadataStore(config.databaseUrl);
  try {
    const stored = (await store.alerts.listRecent({ limit: 10 })).filter(
      (a) => a.workflowId === 'ingest/flights/missing',
    );
    assert.equal(stored.length, 1, 'the retried notification did not duplicate the stored alert');
  } finally {
    await store.close();
  }
});
