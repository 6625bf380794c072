import { setTimeout as sleep } from 'node:timers/promises';
import { Context, ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { ContractViolation, ingest } from '../src/data/ingest-engine';
import { SourceUriError } from '../src/data/source-uri';
import { SourceContentError } from '../src/data/source-reader';
import { loadSpec } from '../src/specs';
import { deliveryDay } from '../src/specs/delivery-day';
import type { IngestStats } from '../src/quality/gate-report';
import { ErrorTypes } from '../src/api/errors';
import { batchKeys } from '../src/data/batch-keys';
import type { ActivityDeps } from './deps';
import { callerRun } from './caller';
import { throwIfCancelled, withHeartbeatKeepalive } from './heartbeat';
import { parseInput } from './parse-input';
import { recordChunk } from './pipeline-metrics';

export const IngestSourceInputSchema = z.object({
  spec: z.string().min(1),
  sourceUri: z.string().min(1).max(2048),
  batchId: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, ".", "_" and "-" only'),
  chunkRows: z.number().int().min(1000).max(10_000_000).optional(),
});
export type IngestSourceInput = z.infer<typeof IngestSourceInputSchema>;

/** The checkpoint an attempt heartbeats after each persisted chunk; the next attempt resumes from it. */
const CheckpointSchema = z.object({
  fingerprint: z.string(),
  chunksDone: z.number().int().nonnegative(),
  chunksTotal: z.number().int().nonnegative(),
  rowsRead: z.number().int().nonnegative(),
});

/** A batch staged for the quality gates: small, no rows, only where they are and what they count. */
export interface StagedBatch {
  spec: string;
  contract: string;
  contractVersion: string;
  batchId: string;
  sourceUri: string;
  fingerprint: string;
  chunksTotal: number;
  resumedFromChunk: number;
  stats: IngestStats;
  outputHash: string;
  deadLetterHash: string;
}

export function createIngestActivities({ duck, artifacts, config, logger }: ActivityDeps) {
  return {
    /** Reads a source in checkpointed chunks, splitting rows into accepted Parquet and dead letters. */
    async ingestSource(raw: IngestSourceInput): Promise<StagedBatch> {
      const input = parseInput(IngestSourceInputSchema, raw);
      const spec = loadSpec(input.spec);
      const ctx = Context.current();
      const checkpoint = CheckpointSchema.safeParse(ctx.info.heartbeatDetails);
      const keys = batchKeys(spec.contract, input.batchId);
      const partitionDay = (() => {
        try {
          return deliveryDay(spec.contract, input.batchId);
        } catch (error) {
          throw ApplicationFailure.nonRetryable((error as Error).message, ErrorTypes.InvalidInput);
        }
      })();
      // pino directly, not the SDK's activity logger: the SDK flushes its log buffer periodically, so
      // a worker killed mid-chunk would lose exactly the lines that say where it was.
      const { workflowId, runId } = callerRun();
      const log = logger.child({
        workflowId,
        workflowRunId: runId,
        activityType: ctx.info.activityType,
        attempt: ctx.info.attempt,
      });
      if (checkpoint.success) log.info({ checkpoint: checkpoint.data }, 'resuming ingestion from checkpoint');
      // Staging before work: a chunk's manifest (work) is only ever mirrored after its Parquet (staging).
      const areas = [
        [keys.dataset, 'staging'],
        [keys.deadLetters, 'staging'],
        [keys.dataset, 'work'],
      ] as const;
      const mirrorAreas = async () => {
        for (const [key, area] of areas) await artifacts.checkpoint(key, area);
      };
      let rowsBefore = checkpoint.success ? checkpoint.data.rowsRead : 0;
      try {
        // This attempt may run on a host other than the one that wrote the checkpoint, and may be a new
        // activity without heartbeat details (after the circuit breaker): what the object store holds
        // is the truth either way; the engine resumes after the chunks persisted there.
        for (const [key, area] of areas) await artifacts.restore(key, area);
        const outcome = await withHeartbeatKeepalive((beat) =>
          ingest(
            duck,
            {
              contract: spec.contract,
              sourceUri: input.sourceUri,
              dataDir: config.dataDir,
              acceptedDir: artifacts.stagingDir(keys.dataset),
              deadLetterDir: artifacts.stagingDir(keys.deadLetters),
              workDir: artifacts.workDir(keys.dataset),
              chunkRows: input.chunkRows ?? spec.chunkRows,
              partitionDay,
              resumeFrom: checkpoint.success ? checkpoint.data : undefined,
            },
            {
              onChunk: async (details) => {
                await mirrorAreas();
                beat(details);
                recordChunk(spec.contract.name, details.rowsRead - rowsBefore);
                rowsBefore = details.rowsRead;
              },
              beforeChunk: async () => {
                if (config.MLPIPE_INGEST_CHUNK_PAUSE_MS > 0) await sleep(config.MLPIPE_INGEST_CHUNK_PAUSE_MS);
                throwIfCancelled();
              },
              log: (message, meta) => log.info(meta, message),
            },
          ),
        );
        await mirrorAreas();
        return {
          spec: spec.name,
          contract: spec.contract.name,
          contractVersion: spec.contract.version,
          batchId: input.batchId,
          sourceUri: input.sourceUri,
          fingerprint: outcome.fingerprint,
          chunksTotal: outcome.chunksTotal,
          resumedFromChunk: outcome.resumedFromChunk,
          stats: outcome.stats,
          outputHash: outcome.outputHash,
          deadLetterHash: outcome.deadLetterHash,
        };
      } catch (error) {
        throw classify(error);
      }
    },
  };
}

const DETERMINISTIC_DUCKDB_ERROR = /^(Invalid Input Error|Conversion Error|Parser Error|Binder Error|Invalid Error)/;

/** Turns the failures retrying cannot fix into non-retryable ones with a clear type. */
function classify(error: unknown): unknown {
  if (error instanceof ContractViolation) {
    return ApplicationFailure.nonRetryable(error.message, ErrorTypes.DataContractViolation, {
      differences: error.differences,
    });
  }
  if (error instanceof SourceUriError) return ApplicationFailure.nonRetryable(error.message, ErrorTypes.SourceNotFound);
  if (error instanceof SourceContentError)
    return ApplicationFailure.nonRetryable(`source cannot be read: ${error.message}`, ErrorTypes.SourceUnreadable);
  // DuckDB's verdicts on the bytes themselves (not a Parquet file, an unparseable CSV dialect) are the
  // same on every attempt; I/O errors are not, and stay retryable.
  if (error instanceof Error && DETERMINISTIC_DUCKDB_ERROR.test(error.message)) {
    return ApplicationFailure.nonRetryable(
      `source cannot be read: ${duckDbReason(error.message)}`,
      ErrorTypes.SourceUnreadable,
    );
  }
  return error;
}

/**
 * The first line of a DuckDB error, and for a CSV error (whose first line only says "CSV Error on
 * Line: N") the line after it that says what is wrong; never the offending line itself, which may be
 * megabytes long.
 */
function duckDbReason(message: string): string {
  const lines = message.split('\n').map((l) => l.trim());
  const first = lines[0]!;
  if (!/CSV Error on Line/.test(first)) return first;
  const why = lines.slice(1).find((l) => l !== '' && !l.startsWith('Original Line'));
  return why ? `${first}: ${why.slice(0, 300)}` : first;
}
