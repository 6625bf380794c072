/**
 * `npm test`: provisions the servers the tests need (test/provision: PostgreSQL, Redis, Chromium, the
 * compose validator), starts one Temporal dev server for the whole run (headless, fresh SQLite file,
 * free port), then runs every test file with Node's test runner against it, then stops the server.
 * Integration tests read TEMPORAL_ADDRESS, claim a namespace per test file (test/helpers/namespaces.ts)
 * and put each test on its own task queue.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { ensureServer } from '../src/temporal/dev-server';
import { freePort } from './helpers/ports';
import { TEST_NAMESPACES } from './helpers/namespaces';
import { provisionAll } from './provision/all';

const SUITES = ['test/unit', 'test/integration', 'test/replay'];

async function main(): Promise<number> {
  const provisioned = await provisionAll((line) => console.error(`[provision] ${line}`));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mlpipe-test-'));
  const port = await freePort();
  const env = {
    ...process.env,
    ...provisioned,
    TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    TEMPORAL_UI_URL: `http://127.0.0.1:${await freePort()}`,
    MLPIPE_DATA_DIR: path.join(root, 'server'),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
    // On a loaded machine (2 CPUs, two test files at once, each with workers and DuckDB) the server can
    // take longer than the 10 s default to answer a first connection; that is not what tests are about.
    TEMPORAL_CONNECT_TIMEOUT_MS: process.env.TEMPORAL_CONNECT_TIMEOUT_MS ?? '60000',
  };
  const server = await ensureServer(loadConfig(env), {
    ui: false,
    extraNamespaces: TEST_NAMESPACES,
    log: (line) => console.error(`[server] ${line}`),
  });
  console.error(`[server] Temporal dev server at ${server.address}`);
  const files = SUITES.flatMap((dir) =>
    fs.existsSync(dir)
      ? fs
          .readdirSync(dir)
          .filter((f) => f.endsWith('.test.ts'))
          .sort()
          .map((f) => path.join(dir, f))
      : [],
  );
  const filter = process.argv.slice(2);
  const selected = filter.length ? files.filter((f) => filter.some((x) => f.includes(x))) : files;
  try {
    return await new Promise<number>((resolve) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...selected],
        {
          stdio: 'inherit',
          env: { ...env, MLPIPE_TEST_TMP: root },
        },
      );
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
  } finally {
    await server.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`npm test: ${(error as Error).message}`);
    process.exit(1);
  },
);
