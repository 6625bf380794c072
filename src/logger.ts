import pino, { type Logger as PinoLogger } from 'pino';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';

/**
 * Paths whose values never reach a log line. Secrets travel in config objects, connection options and
 * error details; redaction is by key so a new secret under a familiar name is covered too.
 */
export const REDACTED_KEYS = [
  'apiKey',
  'password',
  'token',
  'secret',
  'authorization',
  'privateKey',
  'clientCertPair',
  'TEMPORAL_API_KEY',
  'MLPIPE_DATABASE_URL',
  'MLPIPE_WEBHOOK_URL',
  'MLPIPE_ONLINE_STORE_URL',
  'databaseUrl',
  'webhookUrl',
];

export function createLogger(level: string, destination?: pino.DestinationStream): PinoLogger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'mlpipe' },
    // The SDK logs failures under `error`; without a serializer an Error prints as {}.
    serializers: { error: pino.stdSerializers.err, err: pino.stdSerializers.err },
    redact: { paths: REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]), censor: '[redacted]' },
  };
  if (destination) return pino(options, destination);
  // Pretty output for people at a terminal; JSON lines everywhere else (CI, containers, log shippers).
  if (process.stdout.isTTY) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  // Synchronous writes: a worker killed mid-run (OOM, SIGKILL) keeps every line it logged.
  return pino(options, pino.destination({ dest: 1, sync: true }));
}

const levels: Record<LogLevel, pino.Level> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Routes the Temporal SDK's logs (worker, workflow `log`, activity `log`) into pino, keeping the
 * metadata the SDK attaches: workflowId, runId, workflowType, activityType, attempt.
 */
export class PinoTemporalLogger implements TemporalLogger {
  constructor(private readonly logger: PinoLogger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    // The task token is an opaque blob: long, and of no use to a reader.
    const { taskToken: _token, ...rest } = meta ?? {};
    this.logger[levels[level]](rest, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}
