/**
 * Ingestion pipeline benchmark: `ingestionPipeline` (workflows/ingestion.ts) on flights-3m, against the
 * same activity calls made directly without Temporal (bench/pipeline-replay.ts). Each run has a fresh
 * data directory and batch id: a fresh metadata store, so nothing is skipped as already ingested and the
 * quality gates see a first batch. How `ingest()` itself compares with a bare DuckDB COPY is the
 * `ingestion` benchmark's subject.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { IngestionResult } from '../src/api/ingestion';
import { loadSpec } from '../src/specs';
import { WARM_UP_NOTE, withDevServer } from './harness';
import { measurePair, pipelineDetails, pipelineFigures, sampleData, type PipelineSample } from './pipeline-replay';
import type { BenchContext, Benchmark, BenchmarkResult, Figure } from './report';

const SPEC = 'flights';
/** The freshness gate measures the data's age against this: the file's last day is 2001-07-01. */
const AS_OF = '2001-07-02T00:00:00Z';

/** What a run ingested, without what names the run. */
const counts = (s: PipelineSample) => {
  const { rowsRead, rowsAccepted, rowsRejected, chunksTotal, warnings, outputHash } = s.run.result as IngestionResult;
  return JSON.stringify([rowsRead, rowsAccepted, rowsRejected, chunksTotal, warnings, outputHash]);
};

export const benchmark: Benchmark = {
  name: 'ingestion-pipeline',
  description:
    `Ingestion pipeline of ${loadSpec(SPEC).defaultSource}: \`ingestionPipeline\` on spec ${SPEC} (checkpointed ingestion, quality gates, publication, the data-quality alert), ` +
    'started by `startIngestion` on an embedded dev server, worker and client in one fresh Node process per run, each run on a fresh data directory with its own batch id; ' +
    "against a bare replay in a fresh process: the activity calls of that run's history made directly, same arguments and order (each URI a call of the run returned replaced by the one the replayed call returned), on the worker's dependencies " +
    '(DuckDB with `openDuckDb()` settings, the SQLite metadata store), on another fresh data directory, no Temporal. Pipeline and replay alternate. ' +
    WARM_UP_NOTE,

  async run(ctx: BenchContext): Promise<BenchmarkResult> {
    const started = performance.now();
    return withDevServer(ctx, async (server) => {
      const client = await server.client();
      const taskQueue = `bench-ingestion-${randomUUID().slice(0, 8)}`;
      const samples: PipelineSample[] = [];
      for (let rep = 1; rep <= ctx.reps; rep++) {
        const dataDir = path.join(ctx.tmpDir, 'runs', `pipeline-${rep}`);
        const bareDir = path.join(ctx.tmpDir, 'runs', `bare-${rep}`);
        try {
          const options = { spec: SPEC, batch: `bench-${rep}`, asOf: AS_OF };
          const task = {
            kind: 'ingestion' as const,
            address: server.config.TEMPORAL_ADDRESS,
            dataDir,
            taskQueue,
            options,
          };
          samples.push(await measurePair(ctx, client, rep, task, bareDir));
        } finally {
          fs.rmSync(dataDir, { recursive: true, force: true });
          fs.rmSync(bareDir, { recursive: true, force: true });
        }
      }

      const ingested = samples[0]!.run.result as IngestionResult;
      const figures: Figure[] = [
        {
          name: 'rows ingested per run',
          value: ingested.rowsRead,
          unit: 'rows',
          note: `accepted ${ingested.rowsAccepted}, dead letters ${ingested.rowsRejected}, ${ingested.chunksTotal} chunks, ${ingested.warnings} quality warning(s); the same counts and output hash in every run: ${samples.every((s) => counts(s) === counts(samples[0]!)) ? 'yes' : 'NO'}`,
        },
        ...pipelineFigures('ingestion pipeline', samples),
      ];
      return {
        name: 'ingestion-pipeline',
        description: this.description,
        seconds: (performance.now() - started) / 1000,
        figures,
        details: pipelineDetails(samples),
        data: { spec: SPEC, asOf: AS_OF, samples: sampleData(samples) },
      };
    });
  },
};
