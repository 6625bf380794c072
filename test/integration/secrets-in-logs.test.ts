import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startIngestion } from '../../src/client/ingestion';
import { loadConfig } from '../../src/config';
import { mlpipe } from '../helpers/cli';
import { createDatabase, startPostgres, type TestPostgres } from '../helpers/postgres';
import { connect, spawnWorker, testConfig, uniqueTaskQueue, waitFor, type WorkerProcess } from '../helpers/temporal';

/**
 * Secrets in the environment (a database password, a webhook token, a Temporal API key) never reach a
 * log line or an error message, on the paths most likely to print them: connecting, failing, alerting.
 */
const DB_PASSWORD = 'pw-SECRET-3f9a';
const WEBHOOK_TOKEN = 'tok-SECRET-77c1';
const API_KEY = 'key-SECRET-a0b2';
let postgres: TestPostgres;
let worker: WorkerProcess;
let stderr = '';
let deliveries = 0;
const receiver = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    deliveries++;
    res.writeHead(deliveries === 1 ? 500 : 204).end();
  });
});

before(async () => {
  postgres = await startPostgres();
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
});
after(async () => {
  worker?.child.kill('SIGKILL');
  receiver.close();
  await postgres?.stop();
});

function withPassword(url: string): string {
  const u = new URL(url);
  u.password = DB_PASSWORD; // the test server trusts local connections: any password works
  return u.toString();
}

test('a worker on a passworded database with a tokened webhook logs neither secret, even when things fail', async () => {
  const databaseUrl = withPassword(await createDatabase(postgres.url, 'secrets_in_logs'));
  const webhook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts?token=${WEBHOOK_TOKEN}`;
  const config = testConfig({ MLPIPE_DATABASE_URL: databaseUrl, MLPIPE_WEBHOOK_URL: webhook });
  const taskQueue = uniqueTaskQueue('secrets');
  worker = spawnWorker(config, taskQueue, {
    MLPIPE_DATABASE_URL: databaseUrl,
    MLPIPE_WEBHOOK_URL: webhook,
    LOG_LEVEL: 'debug',
  });
  worker.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = await connect(config);
  try {
    // A failing run: an alert, a webhook delivery that fails once and is retried, error logs.
    const handle = await startIngestion(client, config, {
      spec: 'flights',
      batch: 'secret-missing',
      source: 'sources/none.parquet',
      taskQueue,
    });
    await assert.rejects(handle.result());
    await waitFor('the retried webhook delivery', () => deliveries >= 2, 60_000, 100);
  } finally {
    await client.connection.close();
  }
  worker.child.kill('SIGTERM');
  await worker.exited;
  const output = `${JSON.stringify(worker.logs)}\n${stderr}`;
  assert.ok(worker.logs.length > 5, 'the worker logged (so the check below looked at something)');
  assert.ok(
    worker.logs.some((l) => String(l.msg).includes('ALERT')),
    'the alert was logged',
  );
  assert.ok(!output.includes(DB_PASSWORD), 'the database password never appears');
  assert.ok(!output.includes(WEBHOOK_TOKEN), 'the webhook token never appears');
});

test('a CLI failing to connect with an API key and a passworded database URL prints neither', async () => {
  const env = {
    TEMPORAL_ADDRESS: '127.0.0.1:1',
    TEMPORAL_API_KEY: API_KEY,
    TEMPORAL_CONNECT_TIMEOUT_MS: '2000',
    MLPIPE_DATABASE_URL: `postgres://mlpipe:${DB_PASSWORD}@127.0.0.1:1/mlpipe`,
  };
  loadConfig({ ...process.env, ...env }); // the settings themselves are valid: the failure is the connection
  for (const args of [['worker'], ['status'], ['models', 'list']]) {
    const r = await mlpipe(args, env, 60_000);
    assert.notEqual(r.code, 0, `${args.join(' ')} failed as it should`);
    assert.ok(r.stderr.length > 0, 'it said why');
    for (const secret of [API_KEY, DB_PASSWORD])
      assert.ok(!`${r.stdout}${r.stderr}`.includes(secret), `${args.join(' ')} does not print ${secret}`);
  }
});
