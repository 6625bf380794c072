import * as z from 'zod/mini';

/** Small on purpose: this schema lives in every cached workflow (zod/mini keeps the bundle lean). */
export const IngestionInputSchema = z.object({
  spec: z.string().check(z.minLength(1), z.maxLength(100)),
  sourceUri: z.string().check(z.minLength(1), z.maxLength(2048)),
  batchId: z.string().check(z.regex(/^[A-Za-z0-9._-]{1,100}$/)),
  /** ISO time the freshness gate measures against; defaults to the workflow's start time. */
  asOf: z.optional(z.iso.datetime()),
  chunkRows: z.optional(z.number().check(z.int(), z.minimum(1000), z.maximum(10_000_000))),
  /** How long the server waits for a heartbeat before retrying the ingestion elsewhere. */
  heartbeatTimeoutMs: z.optional(z.number().check(z.int(), z.minimum(1000), z.maximum(600_000))),
  /** When a source keeps failing: attempts before the circuit opens, the wait between probes, and how long it may stay open. */
  circuitBreaker: z.optional(
    z.object({
      openAfterAttempts: z.number().check(z.int(), z.minimum(1), z.maximum(100)),
      probeEveryMs: z.number().check(z.int(), z.minimum(100), z.maximum(24 * 3_600_000)),
      maxOpenMs: z.number().check(z.int(), z.minimum(1000), z.maximum(30 * 24 * 3_600_000)),
    }),
  ),
});
export type IngestionInput = z.infer<typeof IngestionInputSchema>;

export interface IngestionResult {
  batchId: string;
  datasetUri: string;
  deadLettersUri: string;
  reportUri: string;
  outputHash: string;
  rowsRead: number;
  rowsAccepted: number;
  rowsRejected: number;
  sourceRows: number;
  chunksTotal: number;
  resumedFromChunk: number;
  warnings: number;
}

/** One run per batch: a batch delivered again reuses the id once the earlier run has closed. */
export function ingestionWorkflowId(spec: string, batchId: string): string {
  return `ingest/${spec}/${batchId}`;
}

export type IngestionPipeline = (input: IngestionInput) => Promise<IngestionResult>;
