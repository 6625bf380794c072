/**
 * `npm test`: provisions the servers the tests need (test/provision: PostgreSQL, Redis, Chromium, the
 * compose validator, versitygw), starts one Temporal dev server and one S3 server for the whole run
 * (headless, fresh files, free ports), then runs every test file with Node's test runner against them,
 * then the pipeline tests once more with their artifacts in S3, then stops the servers.
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
import { startS3, TEST_BUCKET } from './helpers/s3';

const SUITES = ['test/unit', 'test/integration', 'test/replay'];
/** Pipeline tests run a second time with their artifacts in the run's S3 server (MLPIPE_TEST_ARTIFACTS=s3). */
const OBJECT_STORE_PASS = [
  'test/integration/ingestion-flights.test.ts',
  'test/integration/checkpoint-resume.test.ts',
  'test/integration/training-resume.test.ts',
  'test/integration/features.test.ts',
  'test/integration/feature-range.test.ts',
  'test/integration/daily-partitions.test.ts',
  'test/integration/training.test.ts',
  'test/integration/monitoring.test.ts',
  'test/integration/scoring.test.ts',
];

async function main(): Promise<number> {
  const provisioned = await provisionAll((line) => console.error(`[provision] ${line}`));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mlpipe-test-'));
  Object.assign(process.env, provisioned);
  const s3 = await startS3();
  await s3.createBucket(TEST_BUCKET);
  console.error(`[s3] versitygw at ${s3.endpoint}, bucket ${TEST_BUCKET}`);
  const port = await freePort();
  const env = {
    ...process.env,
    ...provisioned,
    TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    TEMPORAL_UI_URL: `http://127.0.0.1:${await freePort()}`,
    MLPIPE_DATA_DIR: path.join(root, 'server'),
    MLPIPE_TEST_S3_ENDPOINT: s3.endpoint,
    ...s3.credentials,
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
  const run = (files: string[], extra: Record<string, string> = {}) =>
    new Promise<number>((resolve) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files],
        { stdio: 'inherit', env: { ...env, MLPIPE_TEST_TMP: root, ...extra } },
      );
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
  try {
    const local = await run(selected);
    const again = OBJECT_STORE_PASS.filter((f) => selected.includes(f));
    if (!again.length) return local;
    console.error(`\n[s3] the pipeline tests again, artifacts in S3: ${again.map((f) => path.basename(f)).join(', ')}`);
    const objectStore = await run(again, { MLPIPE_TEST_ARTIFACTS: 's3' });
    return local || objectStore;
  } finally {
    await server.stop();
    await s3.stop();
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
