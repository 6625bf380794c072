import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { loadConfig } from '../../src/config';
import { ensureServer } from '../../src/temporal/dev-server';
import { provisionTemporalCli } from '../../src/temporal/cli-locator';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/api/search-attributes';
import { freePort } from '../helpers/ports';
import { testConfig, waitFor } from '../helpers/temporal';

async function customAttributes(address: string): Promise<string[]> {
  const connection = await Connection.connect({ address });
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    return Object.keys(customAttributes ?? {});
  } finally {
    await connection.close();
  }
}

test('uses a server that already answers at TEMPORAL_ADDRESS and starts nothing', async () => {
  const server = await ensureServer(testConfig(), { ui: false, log: () => {} });
  assert.equal(server.started, false);
  assert.equal(server.pid, undefined);
});

test('registers the search attributes on a database created earlier without them, and keeps it', async () => {
  const dataDir = testConfig().dataDir;
  const address = `127.0.0.1:${await freePort()}`;
  // Its own server: the plain dev server's one namespace, not the test file's.
  const config = loadConfig({
    ...process.env,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_ADDRESS: address,
    MLPIPE_DATA_DIR: dataDir,
    TEMPORAL_UI_URL: `http://127.0.0.1:${await freePort()}`,
  });
  const dbFile = path.join(dataDir, 'temporal', 'dev-server.sqlite');
  fs.mkdirSync(path.dirname(dbFile), { recursive: true });

  // An older database: created by a plain dev server with no search attributes.
  const cli = await provisionTemporalCli(() => {});
  assert.ok(cli, 'the temporal CLI is provisioned');
  const [host, port] = address.split(':');
  const plain = spawn(
    cli,
    [
      'server',
      'start-dev',
      '--headless',
      '--ip',
      host!,
      '--port',
      port!,
      '--db-filename',
      dbFile,
      '--log-level',
      'error',
    ],
    { stdio: 'ignore' },
  );
  await waitFor(
    'the plain dev server',
    async () =>
      await customAttributes(address).then(
        () => true,
        () => false,
      ),
    60_000,
    250,
  );
  const before = await customAttributes(address);
  assert.ok(!before.includes('PipelineKind'), 'the older database lacks the project attributes');
  plain.kill('SIGTERM');
  await new Promise((r) => plain.once('exit', r));

  const server = await ensureServer(config, { ui: false, log: () => {} });
  try {
    assert.equal(server.started, true);
    const after = await customAttributes(address);
    for (const key of ALL_SEARCH_ATTRIBUTES) assert.ok(after.includes(key.name), `${key.name} registered`);
  } finally {
    await server.stop();
  }
  assert.ok(fs.statSync(dbFile).size > 0, 'the persistent database file is kept');
});
