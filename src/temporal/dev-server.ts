import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Config } from '../config';
import { provisionTemporalCli } from './cli-locator';
import { connectionOptions } from './connection-options';
import { ensureSearchAttributes, searchAttributeFlags } from './search-attributes';

export interface RunningServer {
  address: string;
  uiUrl: string;
  /** False when a server already answered and nothing was started. */
  started: boolean;
  pid?: number;
  logFile?: string;
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** Serve the web UI (on the port of TEMPORAL_UI_URL). */
  ui: boolean;
  /** Leave a started server running after this process exits. */
  detach?: boolean;
  /** How long to wait for a started server to answer. */
  readyTimeoutMs?: number;
  /** More namespaces to create at start, with the search attributes (the test suite gives each test file one). */
  extraNamespaces?: string[];
  /** Serve the server's own Prometheus metrics on this loopback port (the benchmarks read them). */
  metricsPort?: number;
  log: (line: string) => void;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

/**
 * Server settings that take the embedded server's overhead per activity call from ~95 ms to ~20 ms
 * (bench/roundtrip.bench.ts; the measurements are in bench/results/latest.md). Each step of a workflow
 * (a workflow task, an activity) waits for one history write and one transfer-queue task; these are
 * what made those slow. The production-like stack sets the same dynamic config in
 * deploy/temporal/dynamicconfig.yaml.
 */
export const DEV_SERVER_TUNING: readonly string[] = [
  // The history service loads each new transfer task (dispatch of a workflow or activity task to
  // matching) through a reader limited to 20 loads/s per shard (burst 20); the dev server has 1 shard.
  // A workflow running steps one after the other needs one load per step, so once the burst is spent
  // every step waited up to 50 ms for a token. Cost: more, smaller task reads when tasks trickle in;
  // bursts are still read in batches, and the host-wide limit (from history.persistenceMaxQPS) stays.
  '--dynamic-config-value',
  'history.transferProcessorMaxPollRPS=1000',
  // The history service may hand an activity it schedules straight back to the worker completing the
  // workflow task (when the worker asks and has a free slot), instead of a transfer task, a trip
  // through matching and a RecordActivityTaskStarted write. Cost: those activities run on the worker
  // that ran the workflow task rather than on whichever worker polls; the rest go through matching.
  '--dynamic-config-value',
  'system.enableActivityEagerExecution=true',
  // SQLite's default rollback journal syncs the journal and the database on every commit (~8 fsyncs
  // per history write, ~15 ms each write here). Write-ahead log with synchronous=NORMAL: one append per
  // commit, syncs only at checkpoints. Cost: a power loss or OS crash (not a server crash) can lose the
  // last commits, never corrupt the file; -wal and -shm files sit next to it, which needs a local disk.
  '--sqlite-pragma',
  'journal_mode=wal',
  '--sqlite-pragma',
  'synchronous=normal',
];

/**
 * The embedded Temporal server: uses TEMPORAL_ADDRESS if a server answers there; otherwise starts
 * `temporal server start-dev` on that loopback address with a persistent SQLite file under the data
 * directory and the project's search attributes (registered also on a database created earlier).
 */
export async function ensureServer(config: Config, options: ServerOptions): Promise<RunningServer> {
  if (await answers(config, 2_000)) {
    await registerAttributes(config, options.log);
    return { address: config.TEMPORAL_ADDRESS, uiUrl: config.TEMPORAL_UI_URL, started: false, stop: async () => {} };
  }
  const [host, port] = splitAddress(config.TEMPORAL_ADDRESS);
  if (!LOOPBACK.test(host)) {
    throw new Error(
      `no Temporal server answers at ${config.TEMPORAL_ADDRESS}, and an embedded one can only be started on a loopback address`,
    );
  }
  const uiPort = Number(new URL(config.TEMPORAL_UI_URL).port || 8233);
  const dbFile = path.join(config.dataDir, 'temporal', 'dev-server.sqlite');
  fs.mkdirSync(path.dirname(dbFile), { recursive: true });

  const cli = await provisionTemporalCli(options.log);
  const server = cli
    ? await startCli(cli, { host, port, uiPort, dbFile, namespace: config.TEMPORAL_NAMESPACE }, options)
    : await startWithSdkDownload({ host, port, uiPort, dbFile, namespace: config.TEMPORAL_NAMESPACE }, options);
  try {
    await waitUntilAnswers(config, options.readyTimeoutMs ?? 60_000);
    await registerAttributes(config, options.log);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { ...server, address: config.TEMPORAL_ADDRESS, uiUrl: config.TEMPORAL_UI_URL, started: true };
}

interface Listen {
  host: string;
  port: number;
  uiPort: number;
  dbFile: string;
  namespace: string;
}

async function startCli(
  cli: string,
  listen: Listen,
  options: ServerOptions,
): Promise<Omit<RunningServer, 'address' | 'uiUrl' | 'started'>> {
  const logFile = `${listen.dbFile.replace(/\.sqlite$/, '')}.log`;
  const out = fs.openSync(logFile, 'a');
  const args = [
    'server',
    'start-dev',
    '--ip',
    listen.host,
    '--port',
    String(listen.port),
    '--db-filename',
    listen.dbFile,
    '--namespace',
    listen.namespace,
    ...(options.extraNamespaces ?? []).flatMap((namespace) => ['--namespace', namespace]),
    '--log-level',
    'warn',
    ...DEV_SERVER_TUNING,
    ...metricsFlags(options),
    ...(options.ui ? ['--ui-port', String(listen.uiPort)] : ['--headless']),
    ...searchAttributeFlags(),
  ];
  options.log(`starting ${cli} ${args.join(' ')} (log: ${logFile})`);
  const child: ChildProcess = spawn(cli, args, { stdio: ['ignore', out, out], detached: true });
  fs.closeSync(out);
  if (options.detach) child.unref();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code, signal) => options.log(`temporal dev server exited (${signal ?? code})`));
  return {
    pid: child.pid,
    logFile,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Third route, for machines with internet: the SDK downloads and runs the dev server itself. */
async function startWithSdkDownload(
  listen: Listen,
  options: ServerOptions,
): Promise<Omit<RunningServer, 'address' | 'uiUrl' | 'started'>> {
  options.log('no temporal CLI found: asking the Temporal SDK to download the dev server (needs internet)');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      ip: listen.host,
      port: listen.port,
      ui: options.ui,
      uiPort: listen.uiPort,
      dbFilename: listen.dbFile,
      namespace: listen.namespace,
      searchAttributes: [],
      extraArgs: [...DEV_SERVER_TUNING, ...metricsFlags(options)],
    },
  });
  return { stop: () => env.teardown() };
}

function metricsFlags(options: ServerOptions): string[] {
  return options.metricsPort ? ['--metrics-port', String(options.metricsPort)] : [];
}

async function answers(config: Config, timeoutMs: number): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ ...connectionOptions(config), connectTimeout: timeoutMs });
    await connection.workflowService.getSystemInfo({});
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => {});
  }
}

async function waitUntilAnswers(config: Config, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await answers(config, 2_000)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the Temporal dev server did not answer at ${config.TEMPORAL_ADDRESS} within ${timeoutMs} ms`);
}

async function registerAttributes(config: Config, log: (line: string) => void): Promise<void> {
  const connection = await Connection.connect(connectionOptions(config));
  try {
    const added = await ensureSearchAttributes(connection, config.TEMPORAL_NAMESPACE);
    if (added.length) log(`registered search attributes: ${added.join(', ')}`);
  } catch (error) {
    // A managed cluster may refuse operator calls; pipelines still run, only filtering is poorer.
    log(
      `could not register search attributes (${(error as Error).message}); register them with 'temporal operator search-attribute create'`,
    );
  } finally {
    await connection.close();
  }
}

function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at), Number(address.slice(at + 1))];
}
