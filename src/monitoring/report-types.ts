import type { ShadowComparison } from './shadow-comparison';
import type { ColumnDriftResult, DatasetDrift } from '../stats/column-drift';
import type { ModelMetrics } from '../ml/metrics';

/** Reference-against-current counts over shared bin edges (edges.length = counts + 1). */
export interface HistogramPair {
  edges: number[];
  reference: number[];
  current: number[];
}

export interface ColumnDriftReport extends ColumnDriftResult {
  histogram: HistogramPair;
  /** Reference and current mean: a person reads a shift faster from these than from a statistic. */
  referenceMean: number;
  currentMean: number;
}

export interface DailyPerformance {
  day: string;
  /** Every prediction of the day, batch-scored or served, labelled or not. */
  predictions: number;
  labelled: number;
  /** Null when the day's labels are all of one class or not there yet. */
  auc: number | null;
  /** Over every prediction of the day. */
  meanScore: number;
  /** Share of positive labels among the labelled; null when none is labelled yet. */
  positiveRate: number | null;
}

/** A model segment's AUC in the window (labelled batch-scored rows) beside its AUC on the test split. */
export interface SegmentPerformance {
  name: string;
  labelled: number;
  positives: number;
  /** Null when the segment's labelled rows are all of one class (or there are none). */
  auc: number | null;
  referenceAuc: number | null;
}

/** An alert as the report lists it: what, which metric, observed against the threshold. */
export interface ReportAlert {
  code: string;
  subject: string;
  message: string;
  observed: string;
  expected: string;
}

/** Everything one monitoring run found, written as JSON and rendered as a self-contained HTML page. */
export interface MonitoringReport {
  model: string;
  version: number;
  featureSetVersion: string;
  window: { from: string; to: string };
  generatedAt: string;
  workflowId: string;
  runId: string;
  uiUrl?: string;
  /** awaitingLabels: not labelled yet, within the label delay; missingLabels: past it, still without one. */
  predictions: {
    total: number;
    serving: number;
    batch: number;
    labelled: number;
    awaitingLabels: number;
    missingLabels: number;
  };
  /** Where labels exist; absent when none have arrived. */
  performance?: {
    overall: ModelMetrics;
    reference: ModelMetrics;
    byDay: DailyPerformance[];
    judged: boolean;
    bySegment?: SegmentPerformance[];
  };
  /** Staged candidates in shadow against production on the served rows; absent when none ran. */
  shadow?: ShadowComparison[];
  drift: {
    reference: string;
    referenceRows: number;
    currentRows: number;
    columns: ColumnDriftReport[];
    dataset: DatasetDrift;
    prediction?: ColumnDriftReport;
  };
  alerts: ReportAlert[];
  decision: { retrain: boolean; reasons: string[]; childWorkflowId?: string };
}
