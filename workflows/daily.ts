import { ApplicationFailure, executeChild, proxyActivities, startChild } from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  DailyChainInputSchema,
  dailyChainWorkflowId,
  SensorInputSchema,
  type DailyChainInput,
  type DailyChainResult,
  type DailyFeatures,
  type DailyMonitoring,
  type SensorInput,
  type SensorResult,
} from '../src/api/daily';
import { ErrorTypes } from '../src/api/errors';
import { featurePartitionWorkflowId } from '../src/api/features';
import { ingestionWorkflowId } from '../src/api/ingestion';
import { monitoringWorkflowId } from '../src/api/monitoring';
import { Partition } from '../src/api/search-attributes';
import { featurePipeline } from './features';
import { ingestionPipeline } from './ingestion';
import { monitoringPipeline } from './monitoring';
import { redactUri } from '../src/data/redact-uri';
import { PipelineRun } from './pipeline-run';
import { retryFor } from './retry';
import { parseWorkflowInput } from './parse-input';

const retry = retryFor(8);
// Listing a folder and hashing the new files, or a few metadata-store reads: short, and safe to repeat.
const acts = proxyActivities<Activities>({ startToCloseTimeout: '5 minutes', retry });

/**
 * One day of a daily dataset, as a chain with its dependencies explicit: the night's delivery is
 * ingested (a child run, gates and all), and only once it is published are the day's features computed
 * (then those of later days that waited for it, when it arrived out of order), then the production
 * model's monitoring on the day whose labels the night brought in. A step that fails stops
 * the chain: nothing after it runs, and the step's own run has raised the alert.
 */
export async function dailyChain(raw: DailyChainInput): Promise<DailyChainResult> {
  const input = parseWorkflowInput(DailyChainInputSchema, raw, 'daily chain input');
  const { spec, day } = input;
  const run = new PipelineRun('daily', `${spec}/${day}`, [{ key: Partition, value: day }]);

  const ingested = await run.child(
    'Ingesting',
    `the night's delivery ${redactUri(input.sourceUri)}`,
    () =>
      executeChild(ingestionPipeline, {
        workflowId: ingestionWorkflowId(spec, day),
        args: [{ spec, sourceUri: input.sourceUri, batchId: day, asOf: input.asOf }],
        staticSummary: `Ingest ${spec} ${day} (daily chain)`,
      }),
    (r) => `${r.rowsAccepted} rows published, ${r.rowsRejected} dead letters, ${r.warnings} warnings`,
  );
  const plan = await run.step(
    'Planning',
    `the feature partitions ${day} makes computable`,
    () => acts.planDailyFeatures.executeWithOptions({ summary: `plan features ${spec} ${day}` }, [{ spec, day }]),
    (p) => (p.status === 'ready' ? `features of ${p.days.join(', ')}` : p.reason),
  );
  let features: DailyFeatures;
  if (plan.status !== 'ready') features = plan;
  else {
    const partitions: Extract<DailyFeatures, { status: 'computed' }>['partitions'] = [];
    for (const partition of plan.days) {
      const computed = await run.child(
        'Features',
        `${plan.featureSet} ${partition}`,
        () =>
          executeChild(featurePipeline, {
            workflowId: featurePartitionWorkflowId(plan.featureSet, partition),
            args: [{ spec, featureSet: plan.featureSet, partition }],
            staticSummary: `Features ${plan.featureSet} ${partition} (daily chain ${day})`,
          }),
        (r) => `${r.rows} rows, ${r.warnings} warnings`,
      );
      partitions.push({ partition, rows: computed.rows, warnings: computed.warnings });
    }
    features = { status: 'computed', partitions };
  }
  const watch = await run.step(
    'PlanningMonitoring',
    `the day whose labels ${day} brought in`,
    () => acts.planDailyMonitoring.executeWithOptions({ summary: `plan monitoring ${spec} ${day}` }, [{ spec, day }]),
    (p) => (p.status === 'ready' ? `${p.model} on ${p.day}` : p.reason),
  );
  let monitoring: DailyMonitoring;
  if (watch.status !== 'ready') monitoring = watch;
  else {
    const watched = await run.child(
      'Monitoring',
      `${watch.model} on ${watch.day}`,
      () =>
        executeChild(monitoringPipeline, {
          workflowId: monitoringWorkflowId(watch.model, watch.day, watch.day),
          args: [{ spec, from: watch.day, to: watch.day }],
          staticSummary: `Monitor ${watch.model} on ${watch.day} (daily chain ${day})`,
        }),
      (r) => `drift ${r.datasetDrift ? 'yes' : 'no'}, degraded ${r.degraded ? 'yes' : 'no'}`,
    );
    const { reportUri, datasetDrift, degraded } = watched;
    monitoring = { status: 'ran', from: watch.day, to: watch.day, result: { reportUri, datasetDrift, degraded } };
  }
  run.complete(
    features.status === 'computed'
      ? `${ingested.rowsAccepted} rows; features of ${features.partitions.map((p) => p.partition).join(', ')}`
      : `${ingested.rowsAccepted} rows; no features: ${features.reason}`,
  );
  const { rowsRead, rowsAccepted, rowsRejected, warnings, datasetUri } = ingested;
  return { day, ingestion: { rowsRead, rowsAccepted, rowsRejected, warnings, datasetUri }, features, monitoring };
}

/**
 * One look of a sensor (a Temporal Schedule runs it): the new files under its pattern, in day order,
 * each claimed by content and handed to its day's chain, one after the other (a night's gates and
 * features need the nights before it). A copy of a file already claimed for its day is not new. A
 * chain that fails stops the look: its file stays claimed (deliver corrected bytes, or run its chain
 * with `mlpipe daily run`) and the next look goes on with the files after it. A chain that cannot start
 * (its day's chain still runs) gives its claim back, so the next look offers the file again.
 */
export async function deliverySensor(raw: SensorInput): Promise<SensorResult> {
  const input = parseWorkflowInput(SensorInputSchema, raw, 'sensor input');
  const where = input.pattern ?? 'its warehouse table';
  const run = new PipelineRun('sensor', `${input.spec}/${input.pattern ?? 'table'}`);
  const found = await run.step(
    'Looking',
    input.pattern ? `new files matching ${input.pattern}` : 'days of its warehouse table with new rows',
    () =>
      input.pattern
        ? acts.findNewDeliveries.executeWithOptions({ summary: `look for ${where}` }, [
            { spec: input.spec, pattern: input.pattern },
          ])
        : acts.findNewTableDays.executeWithOptions({ summary: `look for ${where}` }, [
            { spec: input.spec, table: input.table! },
          ]),
    (f) => `${f.length} new: ${f.map((d) => d.day).join(', ') || 'none'}`,
  );
  const delivered: SensorResult['delivered'] = [];
  for (const delivery of found) {
    const workflowId = dailyChainWorkflowId(input.spec, delivery.day);
    // A table's URI may carry a password: what the UI and the result show never does.
    const shown = redactUri(delivery.sourceUri);
    const claimed = await acts.claimDelivery.executeWithOptions({ summary: `claim ${shown}` }, [
      { spec: input.spec, ...delivery, workflowId },
    ]);
    if (!claimed) continue;
    await run.child(
      'Chaining',
      `${delivery.day} from ${shown}`,
      async () => {
        const chain = await startChild(dailyChain, {
          workflowId,
          args: [{ spec: input.spec, day: delivery.day, sourceUri: delivery.sourceUri, asOf: delivery.modifiedAt }],
          staticSummary: `Daily ${input.spec} ${delivery.day}`,
        }).catch(async (error: unknown) => {
          // Never started (its day's chain still runs): the file is not lost, the next look offers it again.
          await acts.releaseDelivery.executeWithOptions({ summary: `release ${shown}` }, [
            { spec: input.spec, day: delivery.day, fingerprint: delivery.fingerprint },
          ]);
          throw ApplicationFailure.nonRetryable(
            `the chain of ${delivery.day} could not start (${error instanceof Error ? error.message : String(error)}): ${shown} waits for the next look`,
            ErrorTypes.DailyChainNotStarted,
          );
        });
        return chain.result();
      },
      (r) => `${r.day}: ${r.ingestion.rowsAccepted} rows, features ${r.features.status}`,
    );
    delivered.push({ day: delivery.day, sourceUri: shown });
  }
  run.complete(`${delivered.length} deliveries chained`);
  return { delivered };
}
