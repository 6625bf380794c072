/**
 * Artifacts in an object store against the local directory: the ingestion pipeline (flights-3m, every
 * chunk mirrored to the store before its heartbeat, the batch published through a manifest) and a
 * feature backfill (2001-01-08..2001-01-31 in one run: the dataset downloaded to the scratch cache, the
 * partitions published through manifests), each run once with a worker on the local directory and once
 * on a real S3 server (versitygw on loopback), alternating, on fresh data directories, in one process.
 * Then what the scratch cache saves on a re-run: opening the published dataset from a host with an
 * empty cache (it downloads every object) against one that has it (one manifest read).
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { loadConfig, type Config } from '../src/config';
import { startIngestion } from '../src/client/ingestion';
import { startBackfill } from '../src/client/features';
import { createWorker } from '../src/worker';
import { observerStore } from '../test/helpers/hosts';
import { startS3, type TestS3 } from '../test/helpers/s3';
import { withDevServer } from './harness';
import { median, paired, type BenchContext, type Benchmark, type BenchmarkResult, type Figure } from './report';
import { quietLogger } from './worker-harness';

const BUCKET = 'bench';
/** The freshness gate measures the data's age against this: the file's last day is 2001-07-01. */
const AS_OF = '2001-07-02T00:00:00Z';
const WINDOW = { from: '2001-01-08', to: '2001-01-31' };

interface Sample {
  ingestSeconds: number;
  backfillSeconds: number;
  outputHash: string;
  partitions: number;
}

/** Ingests flights-3m and backfills the window with a worker of `config`, on a fresh task queue. */
async function pipelines(client: Client, config: Config): Promise<Sample> {
  const taskQueue = `bench-objects-${randomUUID().slice(0, 8)}`;
  const started = await createWorker(config, quietLogger(), { taskQueue });
  const running = started.run();
  try {
    let t0 = performance.now();
    const ingestion = await startIngestion(client, config, { spec: 'flights', batch: 'bench', asOf: AS_OF, taskQueue });
    const ingested = await ingestion.result();
    const ingestSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const backfill = await startBackfill(client, config, { spec: 'flights', ...WINDOW, daysPerRun: 24, taskQueue });
    const filled = await backfill.result();
    const backfillSeconds = (performance.now() - t0) / 1000;
    return {
      ingestSeconds,
      backfillSeconds,
      outputHash: ingested.outputHash,
      partitions: filled.total,
    };
  } finally {
    started.worker.shutdown();
    await running;
  }
}

/** Opening the published dataset from an empty scratch cache, then again from the same one. */
async function cacheSaving(
  config: Config,
): Promise<{ coldMs: number; warmMs: number; coldBytes: number; warmBytes: number }> {
  const reader = observerStore(config);
  const uri = 'artifact:datasets/flights/1.0.0/bench';
  const timed = async () => {
    const before = { ...reader.traffic() };
    const t0 = performance.now();
    await reader.open(uri);
    return { ms: performance.now() - t0, bytes: reader.traffic().bytesDown - before.bytesDown };
  };
  const cold = await timed();
  const warm = await timed();
  reader.close();
  return { coldMs: cold.ms, warmMs: warm.ms, coldBytes: cold.bytes, warmBytes: warm.bytes };
}

export const benchmark: Benchmark = {
  name: 'object-store',
  description:
    'The ingestion pipeline (flights-3m) and a feature backfill (2001-01-08..2001-01-31, one run) with their artifacts on a real S3 server (versitygw on loopback: ' +
    'chunks mirrored before each heartbeat, publishing through a manifest with a conditional put, inputs through the scratch cache) against the same pipelines on the local directory, ' +
    'alternating, each on fresh data directories with an in-process worker on one dev server; and what the scratch cache saves when a host opens the published dataset again.',
  async run(ctx: BenchContext): Promise<BenchmarkResult> {
    const started = performance.now();
    let s3: TestS3 | undefined;
    try {
      s3 = await startS3();
      await s3.createBucket(BUCKET);
      Object.assign(process.env, s3.credentials);
      const endpoint = s3.endpoint;
      return await withDevServer(ctx, async (server) => {
        const client = await server.client();
        const local: Sample[] = [];
        const remote: Sample[] = [];
        const caches: Awaited<ReturnType<typeof cacheSaving>>[] = [];
        for (let rep = 0; rep < ctx.reps; rep++) {
          const base = { TEMPORAL_ADDRESS: server.config.TEMPORAL_ADDRESS };
          const dir = (name: string) => fs.mkdtempSync(path.join(ctx.tmpDir, `${name}-${rep}-`));
          local.push(await pipelines(client, loadConfig({ ...base, MLPIPE_DATA_DIR: dir('local') })));
          const s3Config = loadConfig({
            ...base,
            MLPIPE_DATA_DIR: dir('s3'),
            MLPIPE_ARTIFACTS_URL: `s3://${BUCKET}/rep-${rep}`,
            MLPIPE_S3_ENDPOINT: endpoint,
          });
          remote.push(await pipelines(client, s3Config));
          caches.push(await cacheSaving(s3Config));
          ctx.log(
            `rep ${rep + 1}: ingestion ${local.at(-1)!.ingestSeconds.toFixed(1)} s local, ${remote.at(-1)!.ingestSeconds.toFixed(1)} s S3; ` +
              `backfill ${local.at(-1)!.backfillSeconds.toFixed(1)} s local, ${remote.at(-1)!.backfillSeconds.toFixed(1)} s S3`,
          );
        }
        const same = local.every(
          (l, i) => l.outputHash === remote[i]!.outputHash && l.partitions === remote[i]!.partitions,
        );
        const againstLocal = (name: string, pick: (s: Sample) => number, note: string): Figure => ({
          name,
          unit: 's',
          ...paired(remote.map(pick), local.map(pick)),
          ratioNote: 'S3 time / local directory time, same run',
          note,
          headline: true,
        });
        const coldMs = median(caches.map((c) => c.coldMs));
        const warmMs = median(caches.map((c) => c.warmMs));
        const figures: Figure[] = [
          againstLocal(
            'ingestion pipeline, 3M rows',
            (x) => x.ingestSeconds,
            'every chunk mirrored to S3 before its heartbeat',
          ),
          againstLocal(
            `feature backfill, ${local[0]!.partitions} days in one run`,
            (x) => x.backfillSeconds,
            'the dataset read through the scratch cache, partitions published through manifests',
          ),
          {
            name: 'same outputs on S3 and local',
            value: same ? 1 : 0,
            unit: 'bool',
            aim: { on: 'value', op: '>=', limit: 1, text: 'dataset hash and partition count equal' },
          },
          {
            name: 'reopening the dataset: empty cache / warm cache',
            value: coldMs,
            unit: 'ms',
            baseline: warmMs,
            ratio: coldMs / warmMs,
            ratioNote: 'time with an empty scratch cache / with the cached copy',
            note: `${(median(caches.map((c) => c.coldBytes)) / 2 ** 20).toFixed(1)} MiB downloaded with an empty cache; ${median(caches.map((c) => c.warmBytes))} bytes with it (one manifest read)`,
            headline: true,
          },
        ];
        return {
          name: benchmark.name,
          description: benchmark.description,
          seconds: (performance.now() - started) / 1000,
          figures,
        };
      });
    } finally {
      await s3?.stop();
    }
  },
};
