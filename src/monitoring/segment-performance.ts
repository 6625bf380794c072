import { auc } from '../ml/metrics';
import type { FeatureMatrix } from '../ml/feature-matrix';
import type { SegmentPerformance } from './report-types';

/**
 * AUC per model segment on a window's labelled batch-scored rows, beside the segment's AUC on the
 * test split. A model can hold its overall AUC while one segment (the hubs, the long hauls) falls:
 * this is where that shows. Served predictions carry no segment and are left out.
 *
 * `labelledSegment` names the mask of rows whose label has arrived; `predictionColumn` the scores.
 */
export function segmentPerformance(
  batch: FeatureMatrix,
  labelledSegment: string,
  predictionColumn: string,
  reference: Record<string, { auc?: number } | undefined>,
): SegmentPerformance[] {
  const labelled = batch.segmentMasks[batch.segments.indexOf(labelledSegment)];
  const scores = batch.columns[batch.features.indexOf(predictionColumn)];
  if (!labelled || !scores)
    throw new RangeError(`the batch matrix lacks the ${labelledSegment} mask or the ${predictionColumn} column`);
  return batch.segments.flatMap((name, k) => {
    if (name === labelledSegment) return [];
    const mask = batch.segmentMasks[k]!;
    const y: number[] = [];
    const p: number[] = [];
    for (let i = 0; i < batch.rows; i++) {
      if (!mask[i] || !labelled[i]) continue;
      y.push(batch.labels[i]!);
      p.push(scores[i]!);
    }
    const positives = y.reduce((n, v) => n + v, 0);
    const bothClasses = positives > 0 && positives < y.length;
    return [
      {
        name,
        labelled: y.length,
        positives,
        auc: bothClasses ? auc(Uint8Array.from(y), Float64Array.from(p)) : null,
        referenceAuc: reference[name]?.auc ?? null,
      },
    ];
  });
}
