import {
  executeChild,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  proxyActivities,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import type { ReportAlert } from '../src/monitoring/report-types';
import { addDays } from '../src/features/partition-dates';
import { degradedSegments } from '../src/monitoring/segment-degradation';
import { NON_RETRYABLE_ERROR_TYPES } from '../src/api/errors';
import {
  MonitoringInputSchema,
  monitoringWorkflowId,
  retrainWorkflowId,
  ScheduledMonitoringSchema,
  type MonitoringInput,
  type MonitoringResult,
  type ScheduledMonitoringInput,
} from '../src/api/monitoring';
import { ModelName, PipelineKind, PipelineStage, ScheduledStartTime } from '../src/api/search-attributes';
import { PipelineRun } from './pipeline-run';
import { invalidInput, parseWorkflowInput } from './parse-input';
import type { trainingPipeline } from './training';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 5,
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  },
});

/** Lower is better for these; for the others a drop is a fall in value. */
const LOWER_IS_BETTER = new Set(['logLoss', 'ece']);

/** What a Temporal Schedule starts: the monitoring run of the window that ended `lagDays` before its scheduled time. */
export async function scheduledMonitoringRun(raw: ScheduledMonitoringInput): Promise<MonitoringResult> {
  const input = parseWorkflowInput(ScheduledMonitoringSchema, raw, 'scheduled monitoring input');
  const scheduled = workflowInfo().typedSearchAttributes.get(ScheduledStartTime) ?? workflowInfo().startTime;
  const to = addDays(scheduled.toISOString().slice(0, 10), -(input.lagDays + 1));
  const from = addDays(to, -(input.windowDays - 1));
  return executeChild(monitoringPipeline, {
    workflowId: monitoringWorkflowId(input.model, from, to),
    args: [{ spec: input.spec, from, to }],
    typedSearchAttributes: [
      { key: PipelineKind, value: 'monitoring' },
      { key: ModelName, value: input.model },
    ],
    staticSummary: `Monitor ${input.model} on ${from}..${to} (scheduled)`,
  });
}

/**
 * Watches the production model over a window: collect the predictions (batch-scored and served), join
 * the labels that arrived, measure performance and drift against the baseline set at promotion,
 * compare with the spec's thresholds, write the report, raise alerts a person can act on, and start
 * one retraining child when the spec's trigger is crossed (never two for a window, none while one runs).
 */
export async function monitoringPipeline(rawInput: MonitoringInput): Promise<MonitoringResult> {
  const window = parseWorkflowInput(MonitoringInputSchema, rawInput, 'monitoring input');
  if (window.from > window.to) throw invalidInput('monitoring input', 'from is after to');
  const run = new PipelineRun('monitoring', `${window.spec} ${window.from}..${window.to}`);
  const plan = await run.step(
    'Planning',
    `reading spec ${window.spec}`,
    () => acts.planTraining.executeWithOptions({ summary: `plan ${window.spec}` }, [window]),
    (p) => `model ${p.modelName}`,
  );
  upsertSearchAttributes([{ key: ModelName, value: plan.modelName }]);
  const subject = `${plan.modelName} ${window.from}..${window.to}`;
  const settings = await acts.monitoringSettings.executeWithOptions({ summary: `settings ${window.spec}` }, [
    { spec: window.spec },
  ]);

  const collected = await run.step(
    'Collecting',
    'batch-scoring the window with the production model, reading the serving log',
    () => acts.collectPredictions.executeWithOptions({ summary: `collect ${subject}` }, [window]),
    (c) => `v${c.version}: ${c.batchRows} batch-scored rows over ${c.scoredDays} days, ${c.servingRows} served`,
  );
  const labels = await run.step(
    'JoiningLabels',
    'matching predictions to labels that arrived',
    () => acts.joinLabels.executeWithOptions({ summary: `labels ${subject}` }, [window]),
    (l) =>
      `${l.batchLabelled + l.servingLabelled} labelled, ${l.awaiting} awaiting, ${l.missing} missing (data up to ${l.asOf})`,
  );
  const performance = await run.step(
    'Performance',
    'metrics where labels exist',
    () => acts.computePerformance.executeWithOptions({ summary: `performance ${subject}` }, [window]),
    (p) =>
      p.overall
        ? `AUC ${p.overall.auc.toFixed(4)} on ${p.labelled} labelled (reference ${p.reference.auc.toFixed(4)})`
        : `${p.labelled} labelled: not judged`,
  );
  const drift = await run.step(
    'Drift',
    'every model input and the predictions against the promotion baseline',
    () => acts.computeWindowDrift.executeWithOptions({ summary: `drift ${subject}` }, [window]),
    (d) =>
      d.computed
        ? `${d.dataset.driftedColumns} of ${d.dataset.columns} features drifted${d.dataset.drifted ? ' (dataset drift)' : ''}`
        : d.reason,
  );

  run.stage('Comparing', 'against the spec thresholds');
  const alerts: ReportAlert[] = [];
  const reasons: string[] = [];
  const driftedFeatures = drift.computed ? drift.columns.filter((c) => c.drifted).map((c) => c.column) : [];
  if (drift.computed) {
    for (const c of drift.columns.filter((x) => x.drifted)) {
      const observed = `${c.method} ${c.pValue !== undefined ? `p=${c.pValue.toExponential(2)}` : c.statistic.toFixed(4)}; mean ${c.referenceMean.toFixed(4)} -> ${c.currentMean.toFixed(4)}`;
      alerts.push({
        code: 'FeatureDrift',
        subject: `${plan.modelName}/${c.column}`,
        message: `feature ${c.column} drifted in ${window.from}..${window.to}`,
        observed,
        expected: `${c.method} ${c.pValue !== undefined ? `p >= ${c.threshold}` : `< ${c.threshold}`}`,
      });
    }
    if (drift.dataset.drifted && settings.retrainOn.datasetDrift)
      reasons.push(
        `dataset drift: ${drift.dataset.driftedColumns} of ${drift.dataset.columns} features (${driftedFeatures.join(', ')}) >= share ${settings.datasetShare}`,
      );
    if (drift.prediction?.drifted && settings.retrainOn.predictionDrift)
      reasons.push(`prediction drift: ${drift.prediction.method} ${drift.prediction.statistic.toFixed(4)}`);
  }
  let degraded = false;
  const metric = settings.performance.metric;
  if (performance.judged && performance.overall) {
    const now = performance.overall[metric];
    const then = performance.reference[metric];
    const drop = LOWER_IS_BETTER.has(metric) ? now - then : then - now;
    degraded = drop > settings.performance.maxDrop;
    if (degraded) {
      alerts.push({
        code: 'ModelDegraded',
        subject: `${plan.modelName}/${metric}`,
        message: `${plan.modelName} v${collected.version} ${metric} fell in ${window.from}..${window.to}`,
        observed: `${metric} ${now.toFixed(4)} on ${performance.labelled} labelled rows`,
        expected: `within ${settings.performance.maxDrop} of ${then.toFixed(4)} (test split)`,
      });
      if (settings.retrainOn.degradation)
        reasons.push(
          `degradation: ${metric} ${now.toFixed(4)} vs ${then.toFixed(4)} (max drop ${settings.performance.maxDrop})`,
        );
    }
  }
  // A segment can fall while the whole holds. Settings recorded before the bound existed have none: no segment is judged.
  const segmentBound = settings.performance.segmentAucMaxDrop;
  const fallenSegments =
    segmentBound === undefined
      ? []
      : degradedSegments(performance.bySegment ?? [], segmentBound, settings.performance.minLabelled);
  for (const f of fallenSegments) {
    alerts.push({
      code: 'SegmentDegraded',
      subject: `${plan.modelName}/${f.segment}`,
      message: `${plan.modelName} v${collected.version} AUC on segment ${f.segment} fell in ${window.from}..${window.to}`,
      observed: `AUC ${f.auc.toFixed(4)} on ${f.labelled} labelled rows of the segment`,
      expected: `within ${segmentBound} of ${f.referenceAuc.toFixed(4)} (test split)`,
    });
    if (settings.retrainOn.degradation)
      reasons.push(
        `degradation of segment ${f.segment}: AUC ${f.auc.toFixed(4)} vs ${f.referenceAuc.toFixed(4)} (max drop ${segmentBound})`,
      );
  }

  const retraining =
    reasons.length === 0
      ? { started: false, why: 'no trigger crossed' }
      : await retrain(run, window, plan.modelName, settings.retrainDays, reasons);

  const report = await run.step(
    'Reporting',
    'writing the HTML report',
    () =>
      acts.writeMonitoringReport.executeWithOptions({ summary: `report ${subject}` }, [
        {
          window,
          report: {
            model: plan.modelName,
            version: collected.version,
            featureSetVersion: collected.featureSetVersion,
            window: { from: window.from, to: window.to },
            predictions: {
              total: collected.batchRows + collected.servingRows,
              serving: collected.servingRows,
              batch: collected.batchRows,
              labelled: labels.batchLabelled + labels.servingLabelled,
              awaitingLabels: labels.awaiting,
              missingLabels: labels.missing,
            },
            ...(performance.overall
              ? {
                  performance: {
                    overall: performance.overall,
                    reference: performance.reference,
                    byDay: performance.byDay,
                    judged: performance.judged,
                    bySegment: performance.bySegment,
                  },
                }
              : {}),
            drift: drift.computed
              ? {
                  reference: drift.reference,
                  referenceRows: drift.referenceRows,
                  currentRows: drift.currentRows,
                  columns: drift.columns,
                  dataset: drift.dataset,
                  ...(drift.prediction ? { prediction: drift.prediction } : {}),
                }
              : {
                  reference: 'none',
                  referenceRows: 0,
                  currentRows: 0,
                  columns: [],
                  dataset: { drifted: false, driftedColumns: 0, columns: 0, driftedShare: 0 },
                },
            alerts,
            decision: {
              retrain: retraining.started,
              reasons: reasons.length ? reasons : [retraining.why],
              ...(retraining.workflowId ? { childWorkflowId: retraining.workflowId } : {}),
            },
          },
        },
      ]),
    (r) => r.reportUri,
  );
  run.progress.artifacts.report = report.reportUri;
  upsertMemo({ reportUri: report.reportUri, reportPath: report.htmlPath });

  run.stage('Alerting', `${alerts.length} alert(s)`);
  for (const a of alerts) {
    await run.alert(
      a.code === 'ModelDegraded' ? 'critical' : 'warning',
      a.code,
      `${a.message} (report ${report.htmlPath})`,
      {
        subject: a.subject,
        observed: a.observed,
        expected: a.expected,
        details: { window, reportUri: report.reportUri, version: collected.version },
      },
    );
  }
  const segmentNote = fallenSegments.length
    ? `, segment(s) degraded: ${fallenSegments.map((f) => f.segment).join(', ')}`
    : '';
  run.complete(
    `${driftedFeatures.length} drifted feature(s)${degraded ? ', degraded' : ''}${segmentNote}; ${retraining.started ? `retraining ${retraining.workflowId}` : retraining.why}`,
  );
  return {
    modelName: plan.modelName,
    version: collected.version,
    reportUri: report.reportUri,
    datasetDrift: drift.computed && drift.dataset.drifted,
    driftedFeatures,
    degraded,
    degradedSegments: fallenSegments.map((f) => f.segment),
    retraining,
  };
}

/**
 * One retraining child per model and window (its id says which), ABANDON so it outlives this run,
 * and none while another retraining of the model is still running.
 */
async function retrain(
  run: PipelineRun,
  window: MonitoringInput,
  model: string,
  days: number,
  reasons: string[],
): Promise<{ started: boolean; workflowId?: string; why: string }> {
  const workflowId = retrainWorkflowId(model, window.from, window.to);
  run.stage('Retraining', reasons.join('; '));
  const running = await acts.retrainingsInFlight.executeWithOptions({ summary: `retrainings in flight ${model}` }, [
    { model },
  ]);
  if (running.length > 0) return { started: false, why: `retraining already in flight: ${running.join(', ')}` };
  const reason = `monitoring ${window.from}..${window.to}: ${reasons.join('; ')}`;
  try {
    await startChild<typeof trainingPipeline>('trainingPipeline', {
      workflowId,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      args: [
        { spec: window.spec, from: addDays(window.to, -(days - 1)), to: window.to, initiatedBy: 'monitoring', reason },
      ],
      memo: { reason },
      typedSearchAttributes: [
        { key: PipelineKind, value: 'training' },
        { key: PipelineStage, value: 'Starting' },
        { key: ModelName, value: model },
      ],
      staticSummary: `Retrain ${model}: drift or degradation in ${window.from}..${window.to}`,
      staticDetails: reason,
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError)
      return { started: false, workflowId, why: `already retrained for this window (${workflowId})` };
    throw error;
  }
  return { started: true, workflowId, why: reason };
}
