import path from 'node:path';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { heartbeatKeepaliveInterceptor } from '../activities/heartbeat';
import { objectStoreFailuresInterceptor } from '../activities/object-store-failures';
import { createActivities } from '../activities';
import { openActivityDeps } from '../activities/open-deps';
import type { Config } from './config';
import { PinoTemporalLogger } from './logger';
import { connectionOptions } from './temporal/connection-options';
import { tlsHint, withTimeout } from './temporal/client';

let runtimeInstalled = false;

/**
 * Routes SDK, workflow and activity logs into pino and, with an address, serves the SDK's and the
 * pipelines' metrics for Prometheus there; must run before any connection exists (once a process).
 */
export function installRuntime(logger: Logger, metricsAddress?: string): void {
  if (runtimeInstalled) return;
  Runtime.install({
    logger: new PinoTemporalLogger(logger),
    telemetryOptions: {
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      ...(metricsAddress
        ? { metrics: { prometheus: { bindAddress: metricsAddress, countersTotalSuffix: true } } }
        : {}),
    },
  });
  runtimeInstalled = true;
}

/**
 * Each idle long-poll holds an activity slot, and the SDK would run up to ten pollers, so with a few
 * slots none is ever free when a workflow task completes: the server then cannot hand the activity
 * back eagerly in its reply, and it waits in the queue for a poll instead (3-10 ms a task here,
 * 0-0.3 ms with half the slots left to eager dispatch). Half the slots poll, at least one.
 */
function activityPollers(slots: number): WorkerOptions['activityTaskPollerBehavior'] {
  return { type: 'simple-maximum', maximum: Math.max(1, Math.floor(slots / 2)) };
}

type WebpackConfigHook = NonNullable<NonNullable<WorkerOptions['bundlerOptions']>['webpackConfigHook']>;
type WebpackConfig = Parameters<WebpackConfigHook>[0];

const PACKAGE_ROOT = path.resolve(__dirname, '..');

/**
 * Installed from npm, this package's workflows/ and src/api sit under a node_modules folder, and the
 * SDK's bundler compiles no TypeScript there (its .ts rule excludes /node_modules/). Compile ours,
 * and still nobody else's.
 */
const compileOwnTypeScript: WebpackConfigHook = (config: WebpackConfig) => {
  const isOurs = (file: string) => {
    const rel = path.relative(PACKAGE_ROOT, file);
    return !rel.startsWith('..') && !rel.split(path.sep).includes('node_modules');
  };
  for (const rule of config.module?.rules ?? []) {
    if (rule && typeof rule === 'object' && String(rule.test) === String(/\.ts$/))
      rule.exclude = (file: string) => file.split(path.sep).includes('node_modules') && !isOurs(file);
  }
  return config;
};

/**
 * With a build id, the worker is a version of the Worker Deployment: a workflow runs all its tasks on
 * the build that started it (PINNED), so a new build rolls out for new runs while the runs already
 * going finish on the code they started with; the deployment's current version (set with the Temporal
 * CLI) says which build new runs start on.
 */
function versioning(config: Config): Pick<WorkerOptions, 'workerDeploymentOptions'> {
  if (!config.MLPIPE_BUILD_ID) return {};
  return {
    workerDeploymentOptions: {
      version: { deploymentName: config.MLPIPE_DEPLOYMENT_NAME, buildId: config.MLPIPE_BUILD_ID },
      useWorkerVersioning: true,
      defaultVersioningBehavior: 'PINNED',
    },
  };
}

export interface StartedWorker {
  worker: Worker;
  /** Runs until shutdown (SIGINT/SIGTERM or worker.shutdown()), then releases the stores. */
  run(): Promise<void>;
}

/**
 * Builds a worker: its dependencies (DuckDB, metadata store, artifact store), its activities and the
 * workflow bundle. SIGINT/SIGTERM shut it down: in-flight activities get WORKER_SHUTDOWN_GRACE_MS,
 * then are cancelled; the ingestion activity stops between chunks, with its checkpoint heartbeated.
 */
export async function createWorker(
  config: Config,
  logger: Logger,
  overrides: Partial<Pick<WorkerOptions, 'taskQueue' | 'workflowBundle' | 'workflowsPath'>> = {},
): Promise<StartedWorker> {
  installRuntime(logger, config.MLPIPE_METRICS_ADDRESS);
  const options = connectionOptions(config);
  const connection = await withTimeout(
    NativeConnection.connect(options),
    config.TEMPORAL_CONNECT_TIMEOUT_MS,
    config.TEMPORAL_ADDRESS,
    tlsHint(options),
  );
  // A store that cannot be opened (a missing bucket, refused credentials) stops the start, and the
  // connection with it: left open, it would keep the process alive with nothing to run.
  const opened = await openActivityDeps(config, logger).catch(async (error: unknown) => {
    await connection.close();
    throw error;
  });
  const taskQueue = overrides.taskQueue ?? config.TEMPORAL_TASK_QUEUE;
  const workflowSource = overrides.workflowBundle
    ? { workflowBundle: overrides.workflowBundle }
    : {
        workflowsPath: overrides.workflowsPath ?? require.resolve('../workflows'),
        bundlerOptions: { webpackConfigHook: compileOwnTypeScript },
      };
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue,
    ...workflowSource,
    activities: createActivities(opened.deps),
    maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
    activityTaskPollerBehavior: activityPollers(config.WORKER_MAX_CONCURRENT_ACTIVITIES),
    maxConcurrentWorkflowTaskExecutions: config.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    shutdownGraceTime: config.WORKER_SHUTDOWN_GRACE_MS,
    interceptors: { activity: [heartbeatKeepaliveInterceptor, objectStoreFailuresInterceptor] },
    ...versioning(config),
  });
  logger.info(
    {
      taskQueue,
      namespace: config.TEMPORAL_NAMESPACE,
      address: config.TEMPORAL_ADDRESS,
      dataDir: config.dataDir,
      artifacts: opened.deps.artifacts.describe(),
      ...(config.MLPIPE_BUILD_ID
        ? { deploymentVersion: `${config.MLPIPE_DEPLOYMENT_NAME}.${config.MLPIPE_BUILD_ID}` }
        : {}),
    },
    'worker ready',
  );
  return {
    worker,
    run: async () => {
      try {
        await worker.run();
      } finally {
        await opened.close();
        await connection.close();
        logger.info('worker stopped');
      }
    },
  };
}
