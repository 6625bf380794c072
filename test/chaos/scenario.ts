import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadConfig, type Config } from '../../src/config';
import { observerStore } from '../helpers/hosts';
import { createDatabase, startPostgres, type TestPostgres } from '../helpers/postgres';
import { startS3, type TestS3 } from '../helpers/s3';
import { freshAsOf, writeSource } from '../helpers/sources';
import { uniqueTaskQueue } from '../helpers/temporal';
import { Fleet } from './fleet';
import { compareOutputs, type Comparison } from './compare';
import { injectPhaseFaults, planFaults, type Fault, type InjectedFault, type Phase, type PlanOptions } from './faults';
import { historyStats, type HistoryStats } from './histories';
import { collectOutputs, type RunOutputs } from './outputs';
import { runPipelines, type PipelineInputs } from './pipelines';
import { createPrng } from './prng';
import { ChaosServer } from './server';
import { WorkerSupervisor } from './supervisor';

export interface ChaosOptions {
  seed: number;
  /** The source: flights with `date` before this day (the ingestion reads all of them). */
  sourceUntil: string;
  chunkRows: number;
  from: string;
  to: string;
  concurrency: number;
  kills: PlanOptions['kills'];
  serverRestartPhase?: Phase;
  maxDelayMs: number;
  /** MLPIPE_TRAIN_ITERATION_PAUSE_MS and MLPIPE_INGEST_CHUNK_PAUSE_MS of the chaos run's workers: a window between two iterations or chunks. */
  trainPauseMs: number;
  phaseTimeoutMs: number;
  /**
   * Two worker hosts instead of one: separate processes with separate data directories (scratch caches),
   * sharing only the Temporal server, a PostgreSQL metadata database and an S3 server (versitygw); each
   * fault kills the host that holds the running step, and stays down until the other host took it.
   */
  fleet?: boolean;
  /** Work directory (deleted afterwards unless keep). */
  root?: string;
  keep?: boolean;
  log: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  faults: InjectedFault[];
  kills: number;
  serverRestarts: number;
  workerProcesses: number;
  unexpectedWorkerExits: number;
  reference: RunOutputs;
  chaos: RunOutputs;
  comparison: Comparison;
  history: HistoryStats;
  referenceHistory: HistoryStats;
  chunksReadTwice: number;
  trainingResumes: number[];
  trainingIterationsRedone: number;
  seconds: { reference: number; chaos: number };
  /** In a fleet: which host each kill hit, and where each step resumed. */
  fleet?: { kills: string[]; resumes: string[] };
}

const NAMESPACE = 'chaos';
const REFERENCE_NAMESPACE = 'chaos-reference';

/** In a fleet, where the shared state lives: a database of the PostgreSQL server, a prefix of the S3 bucket. */
interface Shared {
  databaseUrl: string;
  artifactsUrl: string;
  s3Endpoint: string;
}

function configFor(address: string, namespace: string, dataDir: string, shared?: Shared): Config {
  return loadConfig({
    ...process.env,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: namespace,
    MLPIPE_DATA_DIR: dataDir,
    MLPIPE_DATABASE_URL: shared?.databaseUrl ?? '',
    MLPIPE_ARTIFACTS_URL: shared?.artifactsUrl ?? '',
    MLPIPE_S3_ENDPOINT: shared?.s3Endpoint ?? '',
    MLPIPE_ONLINE_STORE_URL: '',
  });
}

/** The environment of a spawned worker: everything explicit, nothing inherited from a test's namespace or store. */
function workerEnv(config: Config, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TEMPORAL_NAMESPACE: config.TEMPORAL_NAMESPACE,
    MLPIPE_DATABASE_URL: config.MLPIPE_DATABASE_URL ?? '',
    MLPIPE_ONLINE_STORE_URL: '',
    WORKER_SHUTDOWN_GRACE_MS: '500',
    ...extra,
  };
}

async function prepareSource(config: Config, options: ChaosOptions): Promise<{ source: string; asOf: string }> {
  // A total order: ties on the date alone would let two writes of the same rows differ in order, and
  // the two runs' ingestion hashes with them.
  const source = await writeSource(
    config,
    'flights.parquet',
    `SELECT * FROM flights WHERE date < TIMESTAMP '${options.sourceUntil}' ORDER BY ALL`,
  );
  return { source, asOf: await freshAsOf(config, source) };
}

/**
 * The chaos run: the ingestion, a feature backfill and a training run once undisturbed, then again
 * on the same server (another namespace and data directory) while the worker is SIGKILLed at seeded
 * progress marks and the server is restarted once; then both runs' outputs are compared.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const root = options.root ?? fs.mkdtempSync(path.join(process.env.MLPIPE_TEST_TMP ?? os.tmpdir(), 'mlpipe-chaos-'));
  const log = options.log;
  log(`chaos seed ${options.seed} (repeat with CHAOS_SEED=${options.seed}); work directory ${root}`);
  const server = await ChaosServer.start(path.join(root, 'server'), [NAMESPACE, REFERENCE_NAMESPACE], (line) =>
    log(`[server] ${line}`),
  );
  let connection: Connection | undefined;
  const supervisors: WorkerSupervisor[] = [];
  let s3: TestS3 | undefined;
  let postgres: TestPostgres | undefined;
  try {
    connection = await Connection.connect({ address: server.address });
    const shared = async (name: string): Promise<Shared | undefined> => {
      if (!options.fleet) return undefined;
      if (!s3 || !postgres) {
        s3 = await startS3();
        await s3.createBucket('chaos');
        // Spawned workers take the credentials from the environment, as a host's would.
        Object.assign(process.env, s3.credentials);
        postgres = await startPostgres();
      }
      return {
        databaseUrl: await createDatabase(postgres.url, `chaos_${name}`),
        artifactsUrl: `s3://chaos/${name}`,
        s3Endpoint: s3.endpoint,
      };
    };
    const inputsFor = (source: { source: string; asOf: string }): PipelineInputs => ({
      ...source,
      batch: 'chaos',
      chunkRows: options.chunkRows,
      heartbeatTimeoutMs: 3_000,
      from: options.from,
      to: options.to,
      concurrency: options.concurrency,
      trainingRun: 'chaos',
      trainingHeartbeatTimeoutMs: 3_000,
      phaseTimeoutMs: options.phaseTimeoutMs,
    });

    // 1. Undisturbed.
    const refConfig = configFor(
      server.address,
      REFERENCE_NAMESPACE,
      path.join(root, 'reference'),
      await shared('reference'),
    );
    const refObserver = observerStore(refConfig);
    const refClient = new Client({ connection, namespace: REFERENCE_NAMESPACE });
    const refInputs = inputsFor(await prepareSource(refConfig, options));
    const refQueue = uniqueTaskQueue('chaos-reference');
    const refWorker = new WorkerSupervisor(refConfig, refQueue, workerEnv(refConfig), (l) => log(`[reference] ${l}`));
    supervisors.push(refWorker);
    refWorker.start();
    let started = Date.now();
    log('undisturbed run: ingestion, backfill, training');
    const refRun = await runPipelines(refClient, refConfig, refQueue, refInputs, refObserver);
    const referenceSeconds = (Date.now() - started) / 1000;
    const iterations = new Set(
      refWorker
        .logs()
        .filter((l) => /^checkpoint at iteration/.test(String(l.msg)))
        .map((l) => Number(l.iteration)),
    ).size;
    await refWorker.stop();
    const reference = await collectOutputs(refObserver, refConfig.databaseUrl, refRun);
    log(
      `undisturbed run done in ${referenceSeconds.toFixed(0)} s: ${refRun.ingestion.chunksTotal} chunks, ${Object.keys(reference.partitions).length} partitions, ${iterations} training iterations`,
    );

    // 2. The plan, from the seed and the sizes the undisturbed run measured.
    const prng = createPrng(options.seed);
    const plan: Fault[] = planFaults(
      prng,
      { chunks: refRun.ingestion.chunksTotal, partitions: Object.keys(reference.partitions).length, iterations },
      options,
    );
    log(`fault plan: ${plan.map((f) => `${f.phase} ${f.kind}@${f.at}+${f.delayMs}ms`).join(', ')}`);

    // 3. Disturbed.
    const config = configFor(server.address, NAMESPACE, path.join(root, 'chaos'), await shared('run'));
    const observer = observerStore(config);
    const client = new Client({ connection, namespace: NAMESPACE });
    const inputs = inputsFor(await prepareSource(config, options));
    const taskQueue = uniqueTaskQueue('chaos');
    const env = workerEnv(config, {
      MLPIPE_TRAIN_ITERATION_PAUSE_MS: String(options.trainPauseMs),
      MLPIPE_INGEST_CHUNK_PAUSE_MS: String(options.trainPauseMs),
    });
    const fleet = new Fleet(
      config,
      taskQueue,
      env,
      options.fleet ? ['host-a', 'host-b'] : ['worker'],
      inputs.source,
      log,
    );
    supervisors.push(...fleet.supervisors);
    fleet.start();
    const injected: InjectedFault[] = [];
    const actions = {
      kill: () => fleet.killStepHolder(client),
      restartServer: async () => {
        const t0 = Date.now();
        await server.restart();
        log(`server restarted in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      },
      log,
    };
    started = Date.now();
    log('chaos run: ingestion, backfill, training, with faults');
    const run = await runPipelines(client, config, taskQueue, inputs, observer, async (phase, progress, finished) => {
      injected.push(
        ...(await injectPhaseFaults(
          plan.filter((f) => f.phase === phase),
          progress,
          finished,
          actions,
        )),
      );
    });
    const chaosSeconds = (Date.now() - started) / 1000;
    await fleet.stop();
    const chaos = await collectOutputs(observer, config.databaseUrl, run);
    const logs = fleet.logs();
    const chunkStarts = logs
      .filter((l) => l.msg === 'chunk started' && l.workflowId === run.ingestionWorkflowId)
      .map((l) => Number(l.chunk));
    const checkpoints = logs
      .filter((l) => /^checkpoint at iteration/.test(String(l.msg)))
      .map((l) => Number(l.iteration));
    return {
      seed: options.seed,
      faults: injected,
      kills: fleet.kills.length,
      serverRestarts: server.restarts,
      workerProcesses: fleet.processes,
      unexpectedWorkerExits: fleet.unexpectedExits,
      reference,
      chaos,
      comparison: compareOutputs(reference, chaos),
      history: await historyStats(client),
      referenceHistory: await historyStats(refClient),
      chunksReadTwice: chunkStarts.length - new Set(chunkStarts).size,
      trainingResumes: logs
        .filter((l) => /^resuming training from iteration/.test(String(l.msg)))
        .map((l) => Number(l.iteration)),
      trainingIterationsRedone: checkpoints.length - new Set(checkpoints).size,
      seconds: { reference: referenceSeconds, chaos: chaosSeconds },
      ...(options.fleet ? { fleet: { kills: fleet.kills, resumes: fleet.resumes() } } : {}),
    };
  } finally {
    for (const s of supervisors) await s.stop().catch(() => {});
    await connection?.close().catch(() => {});
    await server.stop();
    await s3?.stop();
    await postgres?.stop();
    if (!options.keep) fs.rmSync(root, { recursive: true, force: true });
    else log(`kept ${root}`);
  }
}
