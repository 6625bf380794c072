/** Drift of a monitoring window's model inputs and scores against the baseline stored at promotion. */
import { columnDrift, datasetDrift, type DatasetDrift } from '../stats/column-drift';
import type { FeatureMatrix } from '../ml/feature-matrix';
import type { MonitoringSpec } from '../specs/monitoring-schema';
import { withSortBuffers } from '../stats/sample';
import { histogramPair } from './histogram';
import type { ColumnDriftReport } from './report-types';

/** The baseline and window matrices carry the model's score under this name, next to its features. */
export const PREDICTION_COLUMN = 'prediction';

export interface DriftInput {
  reference: FeatureMatrix;
  current: FeatureMatrix;
  /** Which columns are features: judged one by one and counted in dataset drift. */
  columns: string[];
  settings: MonitoringSpec['drift'];
}

export interface DriftResult {
  columns: ColumnDriftReport[];
  /** Over the feature columns only. */
  dataset: DatasetDrift;
  /** The model's score, judged apart: present when both matrices have a prediction column. */
  prediction?: ColumnDriftReport;
}

/**
 * Judges each feature column (the spec's method and threshold overrides, else the defaults of
 * `columnDrift`), the dataset over the features with the spec's share, and the prediction column on
 * its own, so a drifting score alerts without also counting as one more drifted feature.
 * Columns are read as the matrices' typed arrays (no row objects); each report adds a histogram pair
 * and both means, all over the same NaN-free values the test saw.
 */
export function computeDrift(input: DriftInput): DriftResult {
  const { reference, current, columns, settings } = input;
  if (columns.includes(PREDICTION_COLUMN))
    throw new Error(`${PREDICTION_COLUMN} is judged apart from the features: leave it out of columns`);
  const known = new Set([...columns, PREDICTION_COLUMN]);
  for (const name of [...Object.keys(settings.methods), ...Object.keys(settings.thresholds)]) {
    // A misspelt column would otherwise silently keep its default method or threshold.
    if (!known.has(name))
      throw new Error(
        `drift settings name column ${name}, which is neither a feature (${columns.join(', ')}) nor ${PREDICTION_COLUMN}`,
      );
  }
  const judge = (name: string) =>
    columnReport(name, column(reference, name, 'reference'), column(current, name, 'current'), settings);
  const withPrediction = reference.features.includes(PREDICTION_COLUMN) && current.features.includes(PREDICTION_COLUMN);
  // Column after column, the sorted copies of both sides go into the same two buffers.
  return withSortBuffers(() => {
    const reports = columns.map(judge);
    return {
      columns: reports,
      dataset: datasetDrift(reports, settings.datasetShare),
      ...(withPrediction ? { prediction: judge(PREDICTION_COLUMN) } : {}),
    };
  });
}

function column(m: FeatureMatrix, name: string, side: string): Float64Array {
  const at = m.features.indexOf(name);
  if (at < 0) throw new Error(`the ${side} matrix has no column ${name} (columns: ${m.features.join(', ')})`);
  return m.columns[at]!;
}

/**
 * NaN (a value the window could not compute) is dropped from both sides before testing: the tests
 * and distances are undefined on it, and imputing would invent a spike at the fill value. How many
 * were dropped is reported in details, since a jump in missing values is a finding of its own.
 */
function columnReport(
  name: string,
  reference: Float64Array,
  current: Float64Array,
  settings: MonitoringSpec['drift'],
): ColumnDriftReport {
  const ref = withoutNaN(reference);
  const cur = withoutNaN(current);
  if (ref.values.length === 0 || cur.values.length === 0) {
    throw new Error(
      `column ${name} has no values besides NaN in the ${ref.values.length === 0 ? 'reference' : 'current'} matrix`,
    );
  }
  const result = columnDrift(
    name,
    { kind: 'numeric', reference: ref.values, current: cur.values },
    { method: settings.methods[name], threshold: settings.thresholds[name] },
  );
  return {
    ...result,
    details: { ...result.details, referenceNaNDropped: ref.dropped, currentNaNDropped: cur.dropped },
    histogram: histogramPair(ref.values, cur.values),
    referenceMean: mean(ref.values),
    currentMean: mean(cur.values),
  };
}

/** The column itself when it has no NaN (the common case: no copy), else a compacted copy. */
function withoutNaN(values: Float64Array): { values: Float64Array; dropped: number } {
  let dropped = 0;
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) dropped++;
  if (dropped === 0) return { values, dropped };
  const kept = new Float64Array(values.length - dropped);
  let k = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) kept[k++] = values[i]!;
  return { values: kept, dropped };
}

function mean(values: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}
