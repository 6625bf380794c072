import path from 'node:path';
import { z } from 'zod';
import { S3_URL } from './data/s3-url';
import { formatZodError } from './validation';

const hostPort = z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:7233');
const positiveInt = z.coerce.number().int().positive();
const optionalPath = z.string().min(1).optional();

/** Every setting the application reads from the environment; see the README's configuration table. */
export const EnvSchema = z
  .object({
    TEMPORAL_ADDRESS: hostPort.default('127.0.0.1:7233'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('ml-pipelines'),
    TEMPORAL_UI_URL: z.url().default('http://127.0.0.1:8233'),
    TEMPORAL_API_KEY: z.string().min(1).optional(),
    TEMPORAL_TLS_CERT_PATH: optionalPath,
    TEMPORAL_TLS_KEY_PATH: optionalPath,
    TEMPORAL_TLS_CA_PATH: optionalPath,
    TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
    TEMPORAL_CONNECT_TIMEOUT_MS: positiveInt.default(10_000),
    TEMPORAL_CLI_PATH: optionalPath,
    MLPIPE_DATA_DIR: z.string().min(1).default('data'),
    /**
     * Where artifacts live: unset, the data directory's artifacts/ folder; `s3://bucket/prefix`, an
     * S3-compatible object store (credentials from the AWS SDK's usual settings), with the data
     * directory's artifact-cache/ as this host's scratch cache.
     */
    MLPIPE_ARTIFACTS_URL: z
      .string()
      .refine((url) => S3_URL.test(url), 'expected s3://bucket/prefix (a valid bucket name; unset: the data directory)')
      .optional(),
    /** An S3-compatible server other than AWS (versitygw, MinIO), e.g. http://127.0.0.1:7070: path-style requests. */
    MLPIPE_S3_ENDPOINT: z.url().optional(),
    AWS_REGION: z.string().min(1).default('us-east-1'),
    MLPIPE_DATABASE_URL: z
      .string()
      .regex(/^(sqlite:|postgres(ql)?:\/\/)/, 'expected sqlite:<file> or postgres://user:pass@host/db')
      .optional(),
    MLPIPE_WEBHOOK_URL: z.url().optional(),
    MLPIPE_ONLINE_STORE_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'expected redis://host:port (unset: the metadata database)')
      .optional(),
    /**
     * Worker Versioning: the build this worker runs. Set, the worker joins the Worker Deployment
     * MLPIPE_DEPLOYMENT_NAME as version <name>.<build id>, and every workflow it starts stays pinned to
     * that build until it ends (see the README's rollout runbook); unset, the worker is unversioned.
     */
    MLPIPE_BUILD_ID: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'letters, digits, ".", "_" and "-", e.g. 2026-12-06.1 or a git sha')
      .optional(),
    MLPIPE_DEPLOYMENT_NAME: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, 'letters, digits, "_" and "-" (no ".": it separates name and build)')
      .default('mlpipe'),
    /** The worker's Prometheus endpoint (the SDK's metrics and the pipelines'), e.g. 0.0.0.0:9464; unset: none. */
    MLPIPE_METRICS_ADDRESS: hostPort.optional(),
    LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    WORKER_MAX_CONCURRENT_ACTIVITIES: positiveInt.default(4),
    WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: positiveInt.default(20),
    WORKER_MAX_CACHED_WORKFLOWS: positiveInt.default(200),
    WORKER_SHUTDOWN_GRACE_MS: z.coerce.number().int().nonnegative().default(10_000),
    /** The port `mlpipe serve` listens on unless --port says otherwise. */
    MLPIPE_SERVE_PORT: z.coerce.number().int().min(1).max(65535).default(8080),
    /** A pause after each training checkpoint: lets a chaos test kill a worker between two of them. 0 in production. */
    MLPIPE_TRAIN_ITERATION_PAUSE_MS: z.coerce.number().int().nonnegative().max(60_000).default(0),
    /** The Python that makes trainer environments (python3 on the PATH unless set). */
    MLPIPE_PYTHON: z.string().min(1).default('python3'),
    /** Where trainer environments are cached, one per requirements file (default ~/.cache/temporal-ml-pipelines/python-envs). */
    MLPIPE_PYTHON_ENVS_DIR: optionalPath,
    /** The same for ingestion: a pause before each chunk (ingestion reads millions of rows a second). 0 in production. */
    MLPIPE_INGEST_CHUNK_PAUSE_MS: z.coerce.number().int().nonnegative().max(60_000).default(0),
    /** The same for batch scoring: a pause after each scored day. 0 in production. */
    MLPIPE_SCORE_DAY_PAUSE_MS: z.coerce.number().int().nonnegative().max(60_000).default(0),
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.TEMPORAL_TLS_CERT_PATH) !== Boolean(env.TEMPORAL_TLS_KEY_PATH)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.TEMPORAL_TLS_CERT_PATH ? 'TEMPORAL_TLS_KEY_PATH' : 'TEMPORAL_TLS_CERT_PATH'],
        message: 'TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH must be set together (mTLS client pair)',
      });
    }
  });

export type Env = z.infer<typeof EnvSchema>;

export interface Config extends Env {
  /** Absolute data directory: artifacts, dead letters, reports, the embedded databases. */
  dataDir: string;
  /** sqlite:<absolute file> by default, or the PostgreSQL URL. */
  databaseUrl: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; an invalid value throws a ConfigError naming the variable and the problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const relevant = Object.fromEntries(
    Object.keys(EnvSchema.shape).flatMap((key) => (env[key] === undefined || env[key] === '' ? [] : [[key, env[key]]])),
  );
  const parsed = EnvSchema.safeParse(relevant);
  if (!parsed.success) throw new ConfigError(`invalid configuration: ${formatZodError(parsed.error)}`);
  const dataDir = path.resolve(parsed.data.MLPIPE_DATA_DIR);
  const databaseUrl = parsed.data.MLPIPE_DATABASE_URL ?? `sqlite:${path.join(dataDir, 'metadata.sqlite')}`;
  return { ...parsed.data, dataDir, databaseUrl };
}
