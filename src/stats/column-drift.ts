/** Per-column drift verdicts with Evidently's default method choice, and the dataset-level verdict. */
import type { CategoryCounts } from './categories';
import { chiSquareGoodnessOfFit } from './chi-square';
import { jsDistanceBase2, jsDistanceCategorical, jsDistanceNumeric } from './jensen-shannon';
import { ksTwoSample } from './ks';
import { twoProportionZ } from './proportion-z';
import { psiCategorical, psiNumeric } from './psi';
import { wassersteinNormed } from './wasserstein';

export type DriftMethod = 'ks' | 'chi-square' | 'z' | 'wasserstein' | 'jensen-shannon' | 'psi';

/** Numeric samples as typed arrays, categorical ones as counts per category. */
export type ColumnSample =
  | { kind: 'numeric'; reference: Float64Array; current: Float64Array }
  | { kind: 'categorical'; reference: CategoryCounts; current: CategoryCounts };

export interface ColumnDriftOptions {
  /** Overrides the default choice (chooseMethod). */
  method?: DriftMethod;
  /** Overrides DEFAULT_THRESHOLDS[method]. */
  threshold?: number;
}

export interface ColumnDriftResult {
  column: string;
  method: DriftMethod;
  /** KS D, chi-square statistic, z, normed W1, JS distance (nats) or PSI. */
  statistic: number;
  /** Only for the statistical tests (ks, chi-square, z); the distances have none. */
  pValue?: number;
  threshold: number;
  drifted: boolean;
  details: Record<string, number | string>;
}

/** Evidently's defaults: a p-value below 0.05 for the tests, a distance of at least 0.1 otherwise. */
export const DEFAULT_THRESHOLDS: Readonly<Record<DriftMethod, number>> = {
  ks: 0.05,
  'chi-square': 0.05,
  z: 0.05,
  wasserstein: 0.1,
  'jensen-shannon': 0.1,
  psi: 0.1,
};

/** Up to this many reference rows the statistical tests are used; beyond, they flag negligible shifts. */
export const SMALL_REFERENCE_ROWS = 1000;
/** A numeric column with at most this many distinct reference values is treated as categorical. */
export const MAX_DISCRETE_VALUES = 5;

/**
 * The default method (Evidently's): reference <= 1000 rows: KS for a numeric column with more than 5
 * distinct reference values, else chi-square with more than 2 categories, else the two-proportion z-test;
 * larger references: normed Wasserstein for such numeric columns, Jensen-Shannon distance for the rest.
 * Categories are counted over both sides (Evidently counts the reference only): a value new in current
 * makes a binary column non-binary, and chi-square reports it as drift where the z-test could not take it.
 */
export function chooseMethod(sample: ColumnSample): DriftMethod {
  const continuous = continuousNumeric(sample) !== undefined;
  if (referenceRows(sample) <= SMALL_REFERENCE_ROWS) {
    if (continuous) return 'ks';
    return moreThanTwoValues(sample) ? 'chi-square' : 'z';
  }
  return continuous ? 'wasserstein' : 'jensen-shannon';
}

/**
 * Drift verdict for one column. The comparison follows each method's convention: KS drifts when
 * p <= threshold, chi-square and z when p < threshold (as the reference defaults state them), the
 * distances when statistic >= threshold. Category-based methods (chi-square, z, PSI, Jensen-Shannon) see a
 * numeric column with at most 5 distinct reference values as categories (its values), a wider one through
 * the reference decile bins (PSI, Jensen-Shannon) or its raw values (chi-square, z); KS and Wasserstein
 * need a numeric column.
 */
export function columnDrift(column: string, sample: ColumnSample, options: ColumnDriftOptions = {}): ColumnDriftResult {
  const method = options.method ?? chooseMethod(sample);
  const threshold = options.threshold ?? DEFAULT_THRESHOLDS[method];
  const measured = measure(method, sample);
  const drifted =
    method === 'ks'
      ? measured.pValue! <= threshold
      : method === 'chi-square' || method === 'z'
        ? measured.pValue! < threshold
        : measured.statistic >= threshold;
  return { column, method, ...measured, threshold, drifted };
}

type Measurement = Pick<ColumnDriftResult, 'statistic' | 'pValue' | 'details'>;

function measure(method: DriftMethod, sample: ColumnSample): Measurement {
  switch (method) {
    case 'ks': {
      const { reference, current } = numeric(sample, method);
      const ks = ksTwoSample(reference, current);
      return { statistic: ks.statistic, pValue: ks.pValue, details: { pValueMethod: ks.method } };
    }
    case 'wasserstein': {
      const { reference, current } = numeric(sample, method);
      const w = wassersteinNormed(reference, current);
      return { statistic: w.normed, details: { distance: w.distance, referenceStd: w.referenceStd } };
    }
    case 'chi-square': {
      const { reference, current } = categorical(sample);
      const chi = chiSquareGoodnessOfFit(reference, current);
      return { statistic: chi.statistic, pValue: chi.pValue, details: { df: chi.df } };
    }
    case 'z': {
      const { reference, current } = categorical(sample);
      const z = twoProportionZ(reference, current);
      return {
        statistic: z.z,
        pValue: z.pValue,
        details: { positive: z.positive, referenceShare: z.referenceShare, currentShare: z.currentShare },
      };
    }
    case 'jensen-shannon': {
      const distance = jsDistanceOf(sample);
      return { statistic: distance, details: { base2: jsDistanceBase2(distance) } };
    }
    case 'psi':
      return { statistic: psiOf(sample), details: {} };
  }
}

function jsDistanceOf(sample: ColumnSample): number {
  const wide = continuousNumeric(sample);
  if (wide) return jsDistanceNumeric(wide.reference, wide.current);
  const counts = categorical(sample);
  return jsDistanceCategorical(counts.reference, counts.current);
}

function psiOf(sample: ColumnSample): number {
  const wide = continuousNumeric(sample);
  if (wide) return psiNumeric(wide.reference, wide.current);
  const counts = categorical(sample);
  return psiCategorical(counts.reference, counts.current);
}

function numeric(sample: ColumnSample, method: DriftMethod): { reference: Float64Array; current: Float64Array } {
  if (sample.kind !== 'numeric') throw new TypeError(`method ${method} needs a numeric column`);
  return sample;
}

/** A numeric column too wide to be read as categories: KS / Wasserstein by default, decile bins for PSI / JS. */
function continuousNumeric(sample: ColumnSample): { reference: Float64Array; current: Float64Array } | undefined {
  return sample.kind === 'numeric' && !isDiscrete(sample.reference) ? sample : undefined;
}

function categorical(sample: ColumnSample): { reference: CategoryCounts; current: CategoryCounts } {
  if (sample.kind === 'categorical') return sample;
  return { reference: valueCounts(sample.reference), current: valueCounts(sample.current) };
}

function valueCounts(values: Float64Array): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < values.length; i++) {
    const key = String(values[i]);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function referenceRows(sample: ColumnSample): number {
  if (sample.kind === 'numeric') return sample.reference.length;
  let rows = 0;
  for (const n of sample.reference.values()) rows += n;
  return rows;
}

function moreThanTwoValues(sample: ColumnSample): boolean {
  const seen = new Set<number | string>();
  if (sample.kind === 'numeric') {
    for (const values of [sample.reference, sample.current]) {
      for (let i = 0; i < values.length && seen.size <= 2; i++) seen.add(values[i]);
    }
  } else {
    for (const counts of [sample.reference, sample.current]) for (const [key, n] of counts) if (n > 0) seen.add(key);
  }
  return seen.size > 2;
}

/** At most MAX_DISCRETE_VALUES distinct values; stops at one more, so a million-row column is not fully hashed. */
function isDiscrete(reference: Float64Array): boolean {
  const seen = new Set<number>();
  for (let i = 0; i < reference.length && seen.size <= MAX_DISCRETE_VALUES; i++) seen.add(reference[i]);
  return seen.size <= MAX_DISCRETE_VALUES;
}

export interface DatasetDrift {
  drifted: boolean;
  driftedColumns: number;
  columns: number;
  /** driftedColumns / columns (0 for no columns). */
  driftedShare: number;
}

/** Dataset drift: the share of drifted columns is at least `share` (Evidently's default 0.5); none is no drift. */
export function datasetDrift(results: readonly ColumnDriftResult[], share = 0.5): DatasetDrift {
  const driftedColumns = results.filter((r) => r.drifted).length;
  const driftedShare = results.length === 0 ? 0 : driftedColumns / results.length;
  return {
    drifted: results.length > 0 && driftedShare >= share,
    driftedColumns,
    columns: results.length,
    driftedShare,
  };
}
