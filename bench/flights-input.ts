/**
 * The input of the training and monitoring benchmarks, not measured: flights-3m ingested into the
 * benchmark's data directory and a window's feature partitions backfilled, by the features
 * benchmark's child tasks (bench/features-worker.ts).
 */
import { partitionRange } from '../src/features/partition-dates';
import { runFeatureTask } from './features-worker';
import type { BenchContext } from './report';
import type { ServerEnv } from './worker-harness';

/** The freshness gate measures the data's age against this: the file's last day is 2001-07-01. */
const AS_OF = '2001-07-02T00:00:00Z';
const BACKFILL_CONCURRENCY = 4;
const TIMEOUT_MS = 20 * 60_000;

export async function ingestAndBackfill(
  ctx: BenchContext,
  env: ServerEnv,
  window: { spec: string; from: string; to: string },
) {
  ctx.log(`ingesting flights-3m and backfilling ${window.from}..${window.to} (not timed)`);
  const ingested = await runFeatureTask(
    ctx,
    { kind: 'ingest', ...env, spec: window.spec, batch: 'bench', asOf: AS_OF },
    TIMEOUT_MS,
  );
  const filled = await runFeatureTask(
    ctx,
    { kind: 'backfill', ...env, ...window, concurrency: BACKFILL_CONCURRENCY },
    TIMEOUT_MS,
  );
  const days = partitionRange(window.from, window.to).length;
  if (filled.computed + filled.alreadyDone !== days)
    throw new Error(`the backfill published ${filled.computed + filled.alreadyDone} of ${days} partitions`);
  ctx.log(
    `ingested ${ingested.rowsAccepted} rows in ${ingested.seconds.toFixed(1)} s; ${filled.computed} partitions in ${filled.seconds.toFixed(1)} s`,
  );
  return {
    rowsAccepted: ingested.rowsAccepted,
    rowsRejected: ingested.rowsRejected,
    ingestSeconds: ingested.seconds,
    partitionsComputed: filled.computed,
    backfillSeconds: filled.seconds,
  };
}
