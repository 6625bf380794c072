import type { MonitoringSpec } from '../specs/monitoring-schema';
import type { ReportAlert } from './report-types';
import { degradedSegments, type SegmentDegradation } from './segment-degradation';
import type { DriftSummary, PerformanceSummary } from './window-summaries';

/** The spec's monitoring thresholds as the workflow receives them (it cannot read specs itself). */
export interface MonitoringSettings {
  retrainOn: MonitoringSpec['retrainOn'];
  datasetShare: number;
  performance: MonitoringSpec['performance'];
  retrainDays: number;
  labelDelayHours: number;
}

export function monitoringSettings(m: MonitoringSpec): MonitoringSettings {
  return {
    retrainOn: m.retrainOn,
    datasetShare: m.drift.datasetShare,
    performance: m.performance,
    retrainDays: m.retrainDays,
    labelDelayHours: m.labelDelayHours,
  };
}

export interface WindowUnderWatch {
  model: string;
  version: number;
  from: string;
  to: string;
}

/** What a monitoring window's measurements mean against the spec: the alerts, and whether to retrain. */
export interface WindowJudgement {
  alerts: ReportAlert[];
  /** The triggers crossed that the spec retrains on; empty: no retraining. */
  retrainReasons: string[];
  driftedFeatures: string[];
  degraded: boolean;
  fallenSegments: SegmentDegradation[];
}

/** Lower is better for these; for the others a drop is a fall in value. */
const LOWER_IS_BETTER = new Set(['logLoss', 'ece']);

/**
 * Compares a window's performance and drift with the spec's thresholds. Every crossed threshold is an
 * alert with what was observed against what was expected; only the triggers `retrainOn` names are
 * reasons to retrain. Pure and deterministic: the monitoring workflow calls it.
 */
export function judgeWindow(
  w: WindowUnderWatch,
  settings: MonitoringSettings,
  performance: PerformanceSummary,
  drift: DriftSummary,
): WindowJudgement {
  const alerts: ReportAlert[] = [];
  const retrainReasons: string[] = [];
  const span = `${w.from}..${w.to}`;

  const driftedColumns = drift.computed ? drift.columns.filter((c) => c.drifted) : [];
  for (const c of driftedColumns) {
    const statistic = c.pValue !== undefined ? `p=${c.pValue.toExponential(2)}` : c.statistic.toFixed(4);
    alerts.push({
      code: 'FeatureDrift',
      subject: `${w.model}/${c.column}`,
      message: `feature ${c.column} drifted in ${span}`,
      observed: `${c.method} ${statistic}; mean ${c.referenceMean.toFixed(4)} -> ${c.currentMean.toFixed(4)}`,
      expected: `${c.method} ${c.pValue !== undefined ? `p >= ${c.threshold}` : `< ${c.threshold}`}`,
    });
  }
  const driftedFeatures = driftedColumns.map((c) => c.column);
  if (drift.computed && drift.dataset.drifted && settings.retrainOn.datasetDrift)
    retrainReasons.push(
      `dataset drift: ${drift.dataset.driftedColumns} of ${drift.dataset.columns} features (${driftedFeatures.join(', ')}) >= share ${settings.datasetShare}`,
    );
  if (drift.computed && drift.prediction?.drifted && settings.retrainOn.predictionDrift)
    retrainReasons.push(`prediction drift: ${drift.prediction.method} ${drift.prediction.statistic.toFixed(4)}`);

  const { metric, maxDrop, minLabelled, segmentAucMaxDrop } = settings.performance;
  let degraded = false;
  if (performance.judged && performance.overall) {
    const now = performance.overall[metric];
    const then = performance.reference[metric];
    degraded = (LOWER_IS_BETTER.has(metric) ? now - then : then - now) > maxDrop;
    if (degraded) {
      alerts.push({
        code: 'ModelDegraded',
        subject: `${w.model}/${metric}`,
        message: `${w.model} v${w.version} ${metric} fell in ${span}`,
        observed: `${metric} ${now.toFixed(4)} on ${performance.labelled} labelled rows`,
        expected: `within ${maxDrop} of ${then.toFixed(4)} (test split)`,
      });
      if (settings.retrainOn.degradation)
        retrainReasons.push(`degradation: ${metric} ${now.toFixed(4)} vs ${then.toFixed(4)} (max drop ${maxDrop})`);
    }
  }

  // A segment can fall while the whole holds. Settings recorded before the bound existed have none: no segment is judged.
  const fallenSegments =
    segmentAucMaxDrop === undefined
      ? []
      : degradedSegments(performance.bySegment ?? [], segmentAucMaxDrop, minLabelled);
  for (const f of fallenSegments) {
    alerts.push({
      code: 'SegmentDegraded',
      subject: `${w.model}/${f.segment}`,
      message: `${w.model} v${w.version} AUC on segment ${f.segment} fell in ${span}`,
      observed: `AUC ${f.auc.toFixed(4)} on ${f.labelled} labelled rows of the segment`,
      expected: `within ${segmentAucMaxDrop} of ${f.referenceAuc.toFixed(4)} (test split)`,
    });
    if (settings.retrainOn.degradation)
      retrainReasons.push(
        `degradation of segment ${f.segment}: AUC ${f.auc.toFixed(4)} vs ${f.referenceAuc.toFixed(4)} (max drop ${segmentAucMaxDrop})`,
      );
  }
  return { alerts, retrainReasons, driftedFeatures, degraded, fallenSegments };
}

/** A whole model falling pages someone; drift and a segment's fall are warnings to look at. */
export function alertSeverity(alert: ReportAlert): 'critical' | 'warning' {
  return alert.code === 'ModelDegraded' ? 'critical' : 'warning';
}

/** The run's one-line outcome, as the UI's current details and the progress query show it. */
export function monitoringOutcome(
  j: WindowJudgement,
  retraining: { started: boolean; workflowId?: string; why: string },
): string {
  const segments = j.fallenSegments.length
    ? `, segment(s) degraded: ${j.fallenSegments.map((f) => f.segment).join(', ')}`
    : '';
  const decision = retraining.started ? `retraining ${retraining.workflowId}` : retraining.why;
  return `${j.driftedFeatures.length} drifted feature(s)${j.degraded ? ', degraded' : ''}${segments}; ${decision}`;
}
