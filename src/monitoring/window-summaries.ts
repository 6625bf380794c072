import type { ModelMetrics } from '../ml/metrics';
import type { DatasetDrift } from '../stats/column-drift';
import type { ColumnDriftReport, DailyPerformance, SegmentPerformance } from './report-types';
import type { ShadowComparison } from './shadow-comparison';

/** What the monitoring activities measured in a window, as the workflow receives it. */
export interface PerformanceSummary {
  labelled: number;
  judged: boolean;
  overall?: ModelMetrics;
  reference: ModelMetrics;
  byDay: DailyPerformance[];
  /** Per model segment, on labelled batch-scored rows (served predictions carry no segment). */
  bySegment: SegmentPerformance[];
  /** Staged candidates that scored served rows in shadow (absent when none did). */
  shadow?: ShadowComparison[];
}

export type DriftSummary =
  | {
      computed: true;
      reference: string;
      referenceRows: number;
      currentRows: number;
      columns: ColumnDriftReport[];
      dataset: DatasetDrift;
      prediction?: ColumnDriftReport;
    }
  | { computed: false; reason: string };
