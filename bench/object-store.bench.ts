/**
 * Artifacts in an object store (a real S3 server, versitygw on loopback) against the local directory:
 * the ingestion pipeline and a feature backfill with a worker on each, alternating, in one process; then
 * what the scratch cache saves when a host opens the published dataset again (one manifest read instead
 * of every object).
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

/** Ingests flights-3m and backfills the window with a worker of `config`, on a fresh task queue. */
async function pipelines(client: Client, config: Config) {
  const taskQueue = `bench-objects-${randomUUID().slice(0, 8)}`;
  const started = await createWorker(config, quietLogger(), { taskQueue });
  const running = started.run();
  const timed = async <T>(start: () => Promise<{ result(): Promise<T> }>) => {
    const t0 = performance.now();
    const result = await (await start()).result();
    return { result, seconds: (performance.now() - t0) / 1000 };
  };
  try {
    const ingestion = await timed(() =>
      startIngestion(client, config, { spec: 'flights', batch: 'bench', asOf: AS_OF, taskQueue }),
    );
    const backfill = await timed(() =>
      startBackfill(client, config, { spec: 'flights', ...WINDOW, daysPerRun: 24, taskQueue }),
    );
    return {
      ingestSeconds: ingestion.seconds,
      backfillSeconds: backfill.seconds,
      outputHash: ingestion.result.outputHash,
      partitions: backfill.result.total,
    };
  } finally {
    started.worker.shutdown();
    await running;
  }
}
type Sample = Awaited<ReturnType<typeof pipelines>>;

/** Opening the published dataset from an empty scratch cache, then again from the same one: time and bytes downloaded. */
async function cacheSaving(config: Config) {
  const reader = observerStore(config);
  const open = async () => {
    const before = reader.traffic().bytesDown;
    const t0 = performance.now();
    await reader.open('artifact:datasets/flights/1.0.0/bench');
    return { ms: performance.now() - t0, bytes: reader.traffic().bytesDown - before };
  };
  const cold = await open();
  const warm = await open();
  reader.close();
  return { cold, warm };
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
        const coldMs = median(caches.map((c) => c.cold.ms));
        const warmMs = median(caches.map((c) => c.warm.ms));
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
            note: `${(median(caches.map((c) => c.cold.bytes)) / 2 ** 20).toFixed(1)} MiB downloaded with an empty cache; ${median(caches.map((c) => c.warm.bytes))} bytes with it (one manifest read)`,
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
