import { spawn, type ChildProcess } from 'node:child_process';
import { after, before } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createWorker } from '../../src/worker';
import { claimTestNamespace } from './namespaces';
import { TEST_BUCKET } from './s3';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Configuration for one test: the run's server, a data directory of its own. */
export function testConfig(extra: Record<string, string> = {}): Config {
  if (!process.env.TEMPORAL_ADDRESS)
    throw new Error('integration tests need the server npm test starts: run them with `npm test`');
  claimTestNamespace();
  const dataDir = fs.mkdtempSync(path.join(process.env.MLPIPE_TEST_TMP ?? os.tmpdir(), 'data-'));
  return loadConfig({
    ...process.env,
    MLPIPE_DATA_DIR: dataDir,
    MLPIPE_DATABASE_URL: '',
    ...testArtifacts(),
    ...extra,
  });
}

/**
 * Under MLPIPE_TEST_ARTIFACTS=s3 (the second pass of `npm test` over the pipeline tests), each config
 * keeps its artifacts under a prefix of its own in the run's S3 server; otherwise in its data directory.
 */
function testArtifacts(): Record<string, string> {
  if (process.env.MLPIPE_TEST_ARTIFACTS !== 's3') return {};
  const endpoint = process.env.MLPIPE_TEST_S3_ENDPOINT;
  if (!endpoint)
    throw new Error('MLPIPE_TEST_ARTIFACTS=s3 needs the S3 server `npm test` starts (MLPIPE_TEST_S3_ENDPOINT)');
  return {
    MLPIPE_ARTIFACTS_URL: `s3://${TEST_BUCKET}/${randomUUID()}`,
    MLPIPE_S3_ENDPOINT: endpoint,
  };
}

/** The variables that point a child process (a worker, the CLI) at a config's data directory and artifact store. */
export function configEnv(config: Config): Record<string, string> {
  return {
    MLPIPE_DATA_DIR: config.dataDir,
    ...(config.MLPIPE_ARTIFACTS_URL ? { MLPIPE_ARTIFACTS_URL: config.MLPIPE_ARTIFACTS_URL } : {}),
    ...(config.MLPIPE_S3_ENDPOINT ? { MLPIPE_S3_ENDPOINT: config.MLPIPE_S3_ENDPOINT } : {}),
  };
}

export function uniqueTaskQueue(name: string): string {
  return `test-${name}-${randomUUID().slice(0, 8)}`;
}

export async function connect(config: Config): Promise<Client> {
  const connection = await Connection.connect({
    address: config.TEMPORAL_ADDRESS,
    connectTimeout: config.TEMPORAL_CONNECT_TIMEOUT_MS,
  });
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow bundle, built once per test file process (bundling takes seconds). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietBundlerLogger });
  return bundle;
}

const noop = () => {};
const quietBundlerLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: console.error };

/** Starts an in-process worker on its own task queue; call stop() in `after`. */
export async function startWorker(config: Config, taskQueue: string): Promise<{ stop(): Promise<void> }> {
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
  const { worker, run } = await createWorker(config, logger, { taskQueue, workflowBundle: await workflowBundle() });
  const running = run();
  return {
    stop: async () => {
      worker.shutdown();
      await running;
    },
  };
}

/**
 * For a test file: a client and an in-process worker on `taskQueue`, started before its tests and
 * stopped after them. Read `client` inside tests; in a before hook, await `ready()`.
 */
export function useWorker(config: Config, taskQueue: string): { readonly client: Client; ready(): Promise<Client> } {
  let client: Client | undefined;
  let worker: { stop(): Promise<void> } | undefined;
  let started: Promise<Client> | undefined;
  const start = () =>
    (started ??= (async () => {
      client = await connect(config);
      worker = await startWorker(config, taskQueue);
      return client;
    })());
  // Node 20 may run a file's top-level before hooks concurrently: a hook of the test file that needs
  // the client awaits ready() instead of racing this one.
  before(start);
  after(async () => {
    await worker?.stop();
    await client?.connection.close();
  });
  return {
    get client() {
      if (!client)
        throw new Error('useWorker: the client exists once the before hook has run (await ready() in hooks)');
      return client;
    },
    ready: start,
  };
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Every JSON log line the process printed so far. */
  logs: Record<string, unknown>[];
  exited: Promise<number | null>;
}

/** A worker in a process of its own (`mlpipe worker`), so a test can SIGKILL it. */
export function spawnWorker(config: Config, taskQueue: string, env: Record<string, string> = {}): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker', '--task-queue', taskQueue], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS,
      ...configEnv(config),
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let buffered = '';
  child.stdout!.on('data', (data: Buffer) => {
    buffered += data.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  let stderr = '';
  child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
  // 'close', not 'exit': it fires after stdout is drained, so no log line of a killed worker is lost.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  exited.then((code) => {
    if (code !== 0 && code !== null && stderr) console.error(`worker process exited ${code}: ${stderr.slice(-2000)}`);
  });
  return { child, logs, exited };
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 60_000,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/**
 * Ends a run the test no longer needs. The run may have closed by itself meanwhile (a gate after the
 * step the test waited for can fail fast on a busy machine): that is no error, as long as the server
 * says it is closed.
 */
export async function terminateIfRunning(handle: WorkflowHandle, reason: string): Promise<void> {
  try {
    await handle.terminate(reason);
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError) || (await handle.describe()).status.name === 'RUNNING') throw error;
  }
}
