import type { SegmentPerformance } from './report-types';

export interface SegmentDegradation {
  segment: string;
  auc: number;
  referenceAuc: number;
  labelled: number;
}

/**
 * The model segments whose AUC in the window fell below their test-split AUC by more than `maxDrop`.
 * A segment with fewer than `minLabelled` labelled rows, labels of one class, or no test-split AUC is
 * not judged: too few rows make a noisy AUC, and a fall needs something to fall from.
 * Pure and deterministic: the monitoring workflow calls it.
 */
export function degradedSegments(
  segments: SegmentPerformance[],
  maxDrop: number,
  minLabelled: number,
): SegmentDegradation[] {
  return segments.flatMap((s) =>
    s.auc !== null && s.referenceAuc !== null && s.labelled >= minLabelled && s.referenceAuc - s.auc > maxDrop
      ? [{ segment: s.name, auc: s.auc, referenceAuc: s.referenceAuc, labelled: s.labelled }]
      : [],
  );
}
