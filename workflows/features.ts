import { ApplicationFailure, executeChild, patched, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorTypes } from '../src/api/errors';
import {
  BackfillInputSchema,
  FeaturePipelineInputSchema,
  featurePartitionWorkflowId,
  FeatureRangeInputSchema,
  featureRangeWorkflowId,
  ScheduledRunInputSchema,
  type BackfillInput,
  type BackfillResult,
  type FeaturePipelineInput,
  type FeaturePipelineResult,
  type FeatureRangeInput,
  type FeatureRangeResult,
  type ScheduledRunInput,
} from '../src/api/features';
import { FeatureSet, Partition, ScheduledStartTime } from '../src/api/search-attributes';
import { askReviewers, GateAsk } from './gate-override';
import { PipelineRun } from './pipeline-run';
import { retryFor } from './retry';
import { parseWorkflowInput } from './parse-input';

const retry = retryFor(8);
// The heartbeat timeout retries a dead worker's step within half a minute (activities heartbeat while they run).
const acts = proxyActivities<Activities>({ startToCloseTimeout: '15 minutes', heartbeatTimeout: '30 seconds', retry });
const alerts = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

/**
 * One partition (a day) of a feature set, one activity per step: extract, check the input, compute,
 * validate, write the offline partition, update the online store, record. A stale or degraded input
 * or a broken feature stops the run before anything is written: the online store keeps its last good values.
 */
export async function featurePipeline(raw: FeaturePipelineInput): Promise<FeaturePipelineResult> {
  const input = parseWorkflowInput(FeaturePipelineInputSchema, raw, 'feature pipeline input');
  const { spec, partition } = input;
  const run = new PipelineRun('features', `${input.featureSet}/${partition}`, [
    { key: FeatureSet, value: input.featureSet },
    { key: Partition, value: partition },
  ]);
  const gate = new GateAsk(partition);
  const args = { spec, partition };
  const summary = (what: string) => ({ summary: `${what} ${input.featureSet} ${partition}` });

  const extracted = await run.step(
    'Extracting',
    `rows of ${partition} and its look-back window`,
    () => acts.extractFeatureInput.executeWithOptions(summary('extract'), [{ ...args, inputUri: input.inputUri }]),
    (e) =>
      `${e.partitionRows} rows on the day, ${e.historyRows} in the window (${e.historyDays} days), from ${e.inputUri}`,
  );
  await run.step(
    'CheckingInput',
    'freshness, history and volume of the input',
    () => acts.checkFeatureInput.executeWithOptions(summary('check input'), [{ ...args, extracted }]),
    () => 'input fresh and complete',
  );
  const computed = await run.step(
    'Computing',
    'point-in-time features',
    () => acts.computeFeatures.executeWithOptions(summary('compute'), [args]),
    (c) => `${c.rows} rows`,
  );
  const validated = await run.step(
    'Validating',
    'nulls, ranges, distribution',
    () => acts.validateFeatures.executeWithOptions(summary('validate'), [args]),
    (v) => `${v.report.checks.length} checks, ${v.report.warnings} warnings`,
  );
  // Features that asked (validation onFail: 'ask'): nothing is written until the reviewers decide.
  const override = validated.ask
    ? await askReviewers(run, gate, {
        subject: `${input.featureSet}/${partition}`,
        ask: validated.ask,
        checks: validated.report.checks,
        failure: (failed, why) =>
          ApplicationFailure.nonRetryable(
            `features of ${input.featureSet} partition ${partition} failed validation: ${failed} (${why})`.slice(
              0,
              4000,
            ),
            ErrorTypes.FeatureValidationFailed,
            { report: validated.report },
          ),
      })
    : undefined;
  const offline = await run.step(
    'WritingOffline',
    'publishing the offline partition',
    () => acts.writeOfflinePartition.executeWithOptions(summary('write offline'), [args]),
    (o) => o.uri,
  );
  run.progress.artifacts.offline = offline.uri;
  const onlineResult = await run.step(
    'UpdatingOnline',
    'upserting entity snapshots',
    () => acts.updateOnlineStore.executeWithOptions(summary('update online'), [args]),
    (o) => `valid from ${o.validFrom}: ${JSON.stringify(o.written)}`,
  );
  await run.step(
    'Recording',
    'partition metadata and lineage',
    () =>
      acts.recordFeaturePartition.executeWithOptions(summary('record'), [
        {
          ...args,
          inputUri: extracted.inputUri,
          outputUri: offline.uri,
          outputHash: offline.hash,
          rows: computed.rows,
          stats: { ...validated.stats, definitionHash: computed.definitionHash },
          startedAt: workflowInfo().startTime.toISOString(),
          ...(override ? { override } : {}),
        },
      ]),
    () => 'recorded',
  );
  if (validated.report.warnings > 0) {
    const failed = validated.report.checks
      .filter((c) => c.verdict === 'fail')
      .map((c) => `${c.gate}(${c.subject}): ${c.detail}`);
    await run.alert('warning', 'FeatureDegraded', `${input.featureSet}/${partition}: ${failed.join('; ')}`, {
      details: { partition },
    });
  }
  run.complete(`${computed.rows} rows, online valid from ${onlineResult.validFrom}`);
  return {
    partition,
    rows: computed.rows,
    offlineUri: offline.uri,
    offlineHash: offline.hash,
    onlineValidFrom: onlineResult.validFrom,
    onlineWritten: onlineResult.written,
    warnings: validated.report.warnings,
  };
}

/**
 * Several partitions (days of a backfill) in two activities: compute every day in one statement, each
 * checked as its own partition would be, then publish the days that passed. A day that fails is
 * reported with the reason its own run would have failed with, and the others are published. Meant
 * for history: a day's own featurePipeline shows each step, and is what schedules run.
 */
export async function featureRangePipeline(raw: FeatureRangeInput): Promise<FeatureRangeResult> {
  const input = parseWorkflowInput(FeatureRangeInputSchema, raw, 'feature range input');
  const [from, to] = [input.days[0]!, input.days[input.days.length - 1]!];
  const run = new PipelineRun('features', `${input.featureSet}/${from}..${to}`, [
    { key: FeatureSet, value: input.featureSet },
  ]);
  const summary = (what: string) => ({
    summary: `${what} ${input.featureSet} ${from}..${to} (${input.days.length} days)`,
  });
  const computed = await run.step(
    'Computing',
    `${input.days.length} days in one statement, each checked as its own partition`,
    () =>
      acts.computeFeatureRange.executeWithOptions(summary('compute'), [
        { spec: input.spec, days: input.days, inputUri: input.inputUri },
      ]),
    (c) => `${c.days.filter((d) => d.computed).length} computed, ${c.days.filter((d) => !d.computed).length} refused`,
  );
  const ok = computed.days.flatMap((d) => (d.computed ? [d] : []));
  if (ok.length > 0) {
    await run.step(
      'Publishing',
      'offline partitions, online snapshot, partition records',
      () =>
        acts.publishFeatureRange.executeWithOptions(summary('publish'), [
          {
            spec: input.spec,
            computed: input.days,
            inputUri: computed.inputUri,
            startedAt: workflowInfo().startTime.toISOString(),
            days: ok.map((d) => ({ day: d.day, rows: d.rows, stats: { ...d.stats } })),
          },
        ]),
      (p) => `${p.days.length} partitions published; online ${JSON.stringify(p.onlineWritten)}`,
    );
  }
  const degraded = ok.filter((d) => d.warnings.length > 0);
  if (degraded.length > 0) {
    await run.alert(
      'warning',
      'FeatureDegraded',
      `${input.featureSet}: ${degraded.map((d) => `${d.day}: ${d.warnings.join('; ')}`).join(' | ')}`.slice(0, 3900),
      { details: { partitions: degraded.map((d) => d.day) } },
    );
  }
  const refused = computed.days.flatMap((d) => (d.computed ? [] : [d]));
  run.complete(
    `${ok.length} of ${input.days.length} partitions published${refused.length ? `; refused: ${refused.map((d) => d.day).join(', ')}` : ''}`,
  );
  return {
    days: computed.days.map((d) =>
      d.computed ? { day: d.day, rows: d.rows } : { day: d.day, failed: `${d.type}: ${d.reason}` },
    ),
  };
}

/**
 * Computes a range of partitions as child workflows, at most `maxConcurrency` at once, skipping the
 * ones already published: a backfill killed halfway and started again does not redo finished work.
 * Partitions start in date order; with concurrency above 1 a partition's distribution check compares
 * with the newest published partition before it, which may be a few days back.
 */
export async function featureBackfill(raw: BackfillInput): Promise<BackfillResult> {
  const input = parseWorkflowInput(BackfillInputSchema, raw, 'backfill input');
  if (input.from > input.to)
    throw ApplicationFailure.nonRetryable(
      `backfill range is empty: ${input.from} > ${input.to}`,
      ErrorTypes.InvalidInput,
    );
  const run = new PipelineRun('feature-backfill', `${input.featureSet}/${input.from}..${input.to}`, [
    { key: FeatureSet, value: input.featureSet },
  ]);
  const partitions = daysBetween(input.from, input.to);
  const alreadyDone = await run.step(
    'Planning',
    `${partitions.length} partitions`,
    () => acts.publishedFeaturePartitions({ spec: input.spec, partitions }),
    (d) => `${d.length} already published`,
  );
  const state = {
    total: partitions.length,
    alreadyDone,
    done: [] as string[],
    running: [] as string[],
    failed: [] as { partition: string; reason: string }[],
  };
  run.progress.partitions = state;
  const queue = partitions.filter((p) => !alreadyDone.includes(p));

  const perRun = input.daysPerRun ?? 1;
  run.stage(
    'Backfilling',
    `${queue.length} partitions, ${input.maxConcurrency ?? 4} runs at a time${perRun > 1 ? `, up to ${perRun} days per run` : ''}`,
  );
  // A run of days: one featurePipeline per day, or several days in one featureRangePipeline.
  const runDays = async (days: string[]): Promise<FeatureRangeResult['days']> => {
    const [first, last] = [days[0]!, days[days.length - 1]!];
    if (perRun === 1) {
      const r = await executeChild(featurePipeline, {
        workflowId: featurePartitionWorkflowId(input.featureSet, first),
        args: [{ spec: input.spec, featureSet: input.featureSet, partition: first, inputUri: input.inputUri }],
        staticSummary: `Features ${input.featureSet} ${first} (backfill)`,
      });
      return [{ day: first, rows: r.rows }];
    }
    const r = await executeChild(featureRangePipeline, {
      workflowId: featureRangeWorkflowId(input.featureSet, first, last),
      args: [{ spec: input.spec, featureSet: input.featureSet, days, inputUri: input.inputUri }],
      staticSummary: `Features ${input.featureSet} ${first}..${last} (backfill)`,
    });
    return r.days;
  };
  // Each lane takes the next days of the queue, in date order, until it is empty.
  const lane = async () => {
    for (let days = queue.splice(0, perRun); days.length > 0; days = queue.splice(0, perRun)) {
      state.running.push(...days);
      try {
        for (const d of await runDays(days)) {
          if ('failed' in d) state.failed.push({ partition: d.day, reason: d.failed });
          else state.done.push(d.day);
        }
      } catch (error) {
        const reason =
          error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
        for (const partition of days) state.failed.push({ partition, reason });
      } finally {
        state.running = state.running.filter((p) => !days.includes(p));
      }
    }
  };
  await Promise.all(Array.from({ length: input.maxConcurrency ?? 4 }, lane));

  if (state.failed.length > 0) {
    const list = state.failed.map((f) => `${f.partition} (${f.reason})`).join('; ');
    await run.alert(
      'critical',
      'BackfillIncomplete',
      `${input.featureSet}: ${state.failed.length} of ${partitions.length} partitions failed: ${list}`.slice(0, 3900),
    );
    throw ApplicationFailure.nonRetryable(
      `${state.failed.length} of ${partitions.length} partitions failed: ${list}`.slice(0, 2000),
      ErrorTypes.BackfillIncomplete,
      { failed: state.failed },
    );
  }
  run.complete(`${state.done.length} computed, ${alreadyDone.length} already done`);
  return { total: partitions.length, alreadyDone: alreadyDone.length, computed: state.done.length };
}

/** Every day from `from` to `to` (pure date arithmetic: deterministic in workflow code). */
function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000)
    days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/**
 * What a Temporal Schedule starts: resolves "yesterday" from the scheduled time (not the actual start,
 * so a run caught up after an outage computes the day it was meant for), then runs that partition.
 */
/**
 * The feature set's SLA (`publishedBy` UTC of the day after the partition): a run that starts late
 * raises FeatureSlaMissed before it computes anything; otherwise a durable timer raises it the moment
 * the partition is late while the run still goes, and a run done in time never hears of it.
 */
async function watchPublishedBy(input: ScheduledRunInput, partition: string, publishedBy: string): Promise<void> {
  const due = Date.parse(`${partition}T${publishedBy}:00Z`) + 86_400_000;
  const subject = `${input.featureSet}/${partition}`;
  const raise = () =>
    alerts.notify
      .executeWithOptions({ summary: `alert: critical FeatureSlaMissed ${subject}` }, [
        {
          severity: 'critical',
          code: 'FeatureSlaMissed',
          subject,
          message: `${subject}: not published by ${publishedBy} UTC of the next day`,
          observed: `not published at ${new Date(Date.now()).toISOString()}`,
          expected: `published by ${new Date(due).toISOString()}`,
        },
      ])
      .then(
        () => undefined,
        () => undefined, // the alert outlet failing must not fail the run
      );
  if (Date.now() >= due) return raise();
  // A cancelled run cancels its timer: nothing is late then.
  sleep(due - Date.now()).then(raise, () => undefined);
}

export async function scheduledFeatureRun(raw: ScheduledRunInput): Promise<FeaturePipelineResult> {
  const input = parseWorkflowInput(ScheduledRunInputSchema, raw, 'scheduled feature run input');
  const scheduled = workflowInfo().typedSearchAttributes.get(ScheduledStartTime) ?? workflowInfo().startTime;
  const partition = new Date(scheduled.getTime() - input.lagDays * 86_400_000).toISOString().slice(0, 10);
  if (input.publishedByUtc && patched('feature-sla')) await watchPublishedBy(input, partition, input.publishedByUtc);
  return executeChild(featurePipeline, {
    workflowId: featurePartitionWorkflowId(input.featureSet, partition),
    args: [{ spec: input.spec, featureSet: input.featureSet, partition }],
    staticSummary: `Features ${input.featureSet} ${partition} (scheduled)`,
  });
}
