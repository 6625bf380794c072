import {
  executeChild,
  ParentClosePolicy,
  patched,
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
import { alertSeverity, judgeWindow, monitoringOutcome, type MonitoringSettings } from '../src/monitoring/judgement';
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
  // One planning call where runs started before it made two (planTraining, then monitoringSettings).
  const onePlanningCall = patched('monitoring-fewer-tasks');
  const { modelName, settings } = onePlanningCall ? await plan(run, window) : await planInTwoCalls(run, window);
  const subject = `${modelName} ${window.from}..${window.to}`;
  // Each step takes the URIs of what the steps before it published; runs started before that share a
  // work area keyed by the run, and their steps take the window alone.
  const handsOverUris = patched('monitoring-data-flow');
  const stepInput = (inputs: Record<string, string>, version?: number) =>
    handsOverUris ? { ...window, inputs, ...(version ? { version } : {}) } : window;

  const collected = await run.step(
    'Collecting',
    'batch-scoring the window with the production model, reading the serving log',
    () => acts.collectPredictions.executeWithOptions({ summary: `collect ${subject}` }, [stepInput({})]),
    (c) => `v${c.version}: ${c.batchRows} batch-scored rows over ${c.scoredDays} days, ${c.servingRows} served`,
  );
  // The served predictions, and the batch-scored rows when the window had any.
  const scored: Record<string, string> = {
    served: collected.served,
    ...(collected.batch ? { batch: collected.batch } : {}),
  };
  const labels = await run.step(
    'JoiningLabels',
    'matching predictions to labels that arrived',
    () => acts.joinLabels.executeWithOptions({ summary: `labels ${subject}` }, [stepInput(scored)]),
    (l) =>
      `${l.batchLabelled + l.servingLabelled} labelled, ${l.awaiting} awaiting, ${l.missing} missing (data up to ${l.asOf})`,
  );
  const performance = await run.step(
    'Performance',
    'metrics where labels exist',
    () =>
      acts.computePerformance.executeWithOptions({ summary: `performance ${subject}` }, [
        stepInput({ ...scored, labelled: labels.uri }, collected.version),
      ]),
    (p) =>
      p.overall
        ? `AUC ${p.overall.auc.toFixed(4)} on ${p.labelled} labelled (reference ${p.reference.auc.toFixed(4)})`
        : `${p.labelled} labelled: not judged`,
  );
  const drift = await run.step(
    'Drift',
    'every model input and the predictions against the promotion baseline',
    () =>
      acts.computeWindowDrift.executeWithOptions({ summary: `drift ${subject}` }, [
        stepInput(scored, collected.version),
      ]),
    (d) =>
      d.computed
        ? `${d.dataset.driftedColumns} of ${d.dataset.columns} features drifted${d.dataset.drifted ? ' (dataset drift)' : ''}`
        : d.reason,
  );

  run.stage('Comparing', 'against the spec thresholds');
  const judgement = judgeWindow(
    { model: modelName, version: collected.version, from: window.from, to: window.to },
    settings,
    performance,
    drift,
  );
  const { alerts, retrainReasons: reasons } = judgement;

  const retraining =
    reasons.length === 0
      ? { started: false, why: 'no trigger crossed' }
      : await retrain(run, window, modelName, settings.retrainDays, reasons);

  const report = await run.step(
    'Reporting',
    'writing the HTML report',
    () =>
      acts.writeMonitoringReport.executeWithOptions({ summary: `report ${subject}` }, [
        {
          window,
          report: {
            model: modelName,
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
            ...(performance.shadow ? { shadow: performance.shadow } : {}),
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
  const sendAlert = (a: ReportAlert) =>
    run.alert(alertSeverity(a), a.code, `${a.message} (report ${report.htmlPath})`, {
      subject: a.subject,
      observed: a.observed,
      expected: a.expected,
      details: { window, reportUri: report.reportUri, version: collected.version },
    });
  // Alerts are independent: sent together, they cost one workflow task, not one each.
  if (onePlanningCall) await Promise.all(alerts.map(sendAlert));
  else for (const a of alerts) await sendAlert(a);
  run.complete(monitoringOutcome(judgement, retraining));
  return {
    modelName,
    version: collected.version,
    reportUri: report.reportUri,
    datasetDrift: drift.computed && drift.dataset.drifted,
    driftedFeatures: judgement.driftedFeatures,
    degraded: judgement.degraded,
    degradedSegments: judgement.fallenSegments.map((f) => f.segment),
    retraining,
  };
}

/** The watched model (shown in the UI from here on) and the spec's thresholds, in one call. */
function plan(run: PipelineRun, window: MonitoringInput): Promise<{ modelName: string; settings: MonitoringSettings }> {
  return planningStep(run, window, () =>
    acts.planMonitoring.executeWithOptions({ summary: `plan ${window.spec}` }, [window]),
  );
}

/** How runs started before planMonitoring planned: the model from the training plan, then the thresholds. */
async function planInTwoCalls(
  run: PipelineRun,
  window: MonitoringInput,
): Promise<{ modelName: string; settings: MonitoringSettings }> {
  const { modelName } = await planningStep(run, window, () =>
    acts.planTraining.executeWithOptions({ summary: `plan ${window.spec}` }, [window]),
  );
  const settings = await acts.monitoringSettings.executeWithOptions({ summary: `settings ${window.spec}` }, [
    { spec: window.spec },
  ]);
  return { modelName, settings };
}

/** The Planning stage around either planning call; the model name becomes a search attribute. */
async function planningStep<P extends { modelName: string }>(
  run: PipelineRun,
  window: MonitoringInput,
  call: () => Promise<P>,
): Promise<P> {
  const planned = await run.step('Planning', `reading spec ${window.spec}`, call, (p) => `model ${p.modelName}`);
  upsertSearchAttributes([{ key: ModelName, value: planned.modelName }]);
  return planned;
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
