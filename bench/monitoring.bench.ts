/**
 * Monitoring pipeline benchmark: `monitoringPipeline` (workflows/monitoring.ts) watching the flights
 * model over the two weeks after its training window, against the same activity calls made directly
 * without Temporal (bench/pipeline-replay.ts). Not measured, first: flights-3m ingested and both
 * windows' feature partitions backfilled (bench/flights-input.ts), then the model trained and approved
 * by the training benchmark's `pipeline` task (bench/training-worker.ts), which promotes v1 and writes
 * its monitoring baseline. Pipeline and replay share the data directory (each a run of its own).
 *
 * The window drifts from the training window (spring is not winter), so the spec's trigger asks for a
 * retraining. The pipeline starts one retraining child per model and window, and none while another
 * retraining of the model runs. A child started by a measured run would share the worker with the
 * rest of that run and outlive it into the next, and the next runs would take the "already retrained"
 * branch: the runs would neither be alike nor measure the monitoring alone. So before the runs the
 * benchmark starts the window's retraining itself, as a stand-in that never runs (on a task queue no
 * worker polls), and every run takes the branch a production run takes while a retraining awaits its
 * reviewer: drift found, alerts raised, retraining already in flight. Each run then does the same work
 * (checked) on the same data; nothing else is deduplicated across runs (workspaces and reports are per
 * run). The issue sets no aims for monitoring: every figure is reported.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { retrainWorkflowId, type MonitoringResult } from '../src/api/monitoring';
import { partitionRange } from '../src/features/partition-dates';
import { loadTrainingSpec } from '../src/training/training-spec';
import { bareEnv, runChild } from './child';
import { ingestAndBackfill } from './flights-input';
import { WARM_UP_NOTE, withDevServer } from './harness';
import { measurePair, pipelineDetails, pipelineFigures, sampleData, type PipelineSample } from './pipeline-replay';
import type { Benchmark } from './report';
import type { PipelineRunResult as TrainingRunResult, WorkerTask as TrainingTask } from './training-worker';

const SPEC = 'flights';
/** The model: the spec's default training window (the training benchmark's). */
const TRAINING = { from: '2001-01-08', to: '2001-02-28' };
/** The monitored window: the two weeks after the training window, its partitions backfilled in step 1. */
const WINDOW = { from: '2001-03-01', to: '2001-03-14' };

/** What a run found, without what names the run (its report's URI). */
const verdict = (s: PipelineSample) => {
  const { version, datasetDrift, driftedFeatures, degraded, retraining } = s.run.result as MonitoringResult;
  return JSON.stringify([version, datasetDrift, driftedFeatures, degraded, retraining]);
};

export const benchmark: Benchmark = {
  name: 'monitoring',
  description:
    `Monitoring pipeline of flight-delay (src/specs/flights.ts): \`monitoringPipeline\` on spec ${SPEC}, window ${WINDOW.from}..${WINDOW.to} (${partitionRange(WINDOW.from, WINDOW.to).length} daily feature partitions), ` +
    `watching v1, trained on ${TRAINING.from}..${TRAINING.to} and approved first (not timed), with the window's retraining already in flight (a stand-in that never runs: see the module's header), ` +
    'started by `startMonitoring` on an embedded dev server, worker and client in one fresh Node process per run; ' +
    "against a bare replay in a fresh process: the activity calls of that run's history made directly, same arguments and order (each URI a call of the run returned replaced by the one the replayed call returned), on the worker's dependencies " +
    '(DuckDB with `openDuckDb()` settings, the SQLite metadata store), on the same data directory, no Temporal. Pipeline and replay alternate. ' +
    'Input: flights-3m ingested and the feature partitions of both windows backfilled first (not timed). ' +
    WARM_UP_NOTE,

  async run(ctx) {
    const started = performance.now();
    return withDevServer(ctx, async (server) => {
      const client = await server.client();
      const dataDir = path.join(ctx.tmpDir, 'data');
      const env = {
        address: server.config.TEMPORAL_ADDRESS,
        dataDir,
        taskQueue: `bench-monitoring-${randomUUID().slice(0, 8)}`,
      };

      const setup = await ingestAndBackfill(ctx, env, { spec: SPEC, from: TRAINING.from, to: WINDOW.to });
      ctx.log(`training and approving the model on ${TRAINING.from}..${TRAINING.to} (not timed)`);
      const training: TrainingTask = {
        kind: 'pipeline',
        ...env,
        spec: SPEC,
        ...TRAINING,
        runId: 'monitored',
        initiatedBy: 'bench',
        reviewer: 'ben',
      };
      const trained = await runChild<TrainingRunResult>(ctx, 'training-worker.ts', training, 20 * 60_000, bareEnv());
      ctx.log(`v${trained.version} in production (test AUC ${trained.approval.testAuc.toFixed(4)})`);
      const inFlight = await client.workflow.start('trainingPipeline', {
        workflowId: retrainWorkflowId(loadTrainingSpec(SPEC).model.name, WINDOW.from, WINDOW.to),
        taskQueue: `${env.taskQueue}-unpolled`,
        args: [
          { spec: SPEC, ...WINDOW, initiatedBy: 'monitoring', reason: 'benchmark stand-in: a retraining in flight' },
        ],
      });
      ctx.log(`stand-in retraining ${inFlight.workflowId} in flight (never runs)`);

      const samples: PipelineSample[] = [];
      for (let rep = 1; rep <= ctx.reps; rep++) {
        const task = { kind: 'monitoring' as const, ...env, options: { spec: SPEC, ...WINDOW } };
        const sample = await measurePair(ctx, client, rep, task, dataDir);
        const { retraining } = sample.run.result as MonitoringResult;
        if (retraining.started)
          throw new Error(`run #${rep} started a retraining child (${retraining.why}) despite the stand-in in flight`);
        samples.push(sample);
      }

      const found = samples[0]!.run.result as MonitoringResult;
      const drifted = found.driftedFeatures;
      return {
        name: 'monitoring',
        description: this.description,
        seconds: (performance.now() - started) / 1000,
        figures: [
          {
            name: 'features drifted in the window',
            value: drifted.length,
            unit: 'features',
            note:
              `v${found.version} over ${WINDOW.from}..${WINDOW.to}: ${drifted.length ? drifted.join(', ') : 'none'}${found.datasetDrift ? ' (dataset drift)' : ''}; ` +
              `performance ${found.degraded ? 'degraded' : 'not degraded'}; retraining: ${found.retraining.why}; the same verdict in every run: ${samples.every((s) => verdict(s) === verdict(samples[0]!)) ? 'yes' : 'NO'}`,
          },
          ...pipelineFigures('monitoring pipeline', samples),
        ],
        details: pipelineDetails(
          samples,
          "retrainingsInFlight lists the model's running retrainings on the server, in the replay too: both sides open the activity's client connection in that call, but in the replay it is the process's first use of the gRPC client (in the pipeline process the benchmark's own client has warmed it).",
        ),
        data: { spec: SPEC, training: TRAINING, window: WINDOW, setup, samples: sampleData(samples) },
      };
    });
  },
};
