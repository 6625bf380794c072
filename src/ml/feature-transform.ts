import { sqlIdent } from '../data/duckdb';
import type { FeatureSet } from '../specs/feature-schema';
import type { ModelSpec } from '../specs/model-schema';

/**
 * The one transform between a stored feature value and the model's input, written once as data and
 * applied by two small interpreters: SQL for training (over millions of rows in DuckDB) and
 * JavaScript for serving (a few rows per request). A missing value becomes the feature's documented
 * serving default, so training learns exactly what serving will send; then the value is clamped to
 * the feature's declared range. The staging skew check proves both interpreters agree.
 */
export interface FeatureTransform {
  name: string;
  /** Replaces null: the serving default, else the fill of an empty window, else the range's midpoint. */
  fill: number;
  min: number;
  max: number;
}

/** The model's features in model order (the spec's list, else the whole feature set). */
function modelFeatureNames(fs: FeatureSet, model: ModelSpec): string[] {
  return model.features ?? fs.features.map((f) => f.name);
}

export function featureTransforms(fs: FeatureSet, model: ModelSpec): FeatureTransform[] {
  return modelFeatureNames(fs, model).map((name) => {
    const f = fs.features.find((x) => x.name === name);
    if (!f) throw new Error(`feature ${name} is not in feature set ${fs.name}`);
    const [min, max] = f.range;
    return { name, fill: f.serving?.default ?? f.fillMissing ?? (min + max) / 2, min, max };
  });
}

/** SQL for one transformed feature over a column of the same name (a DOUBLE). */
export function transformSql(t: FeatureTransform, alias = ''): string {
  const col = `${alias ? `${alias}.` : ''}${sqlIdent(t.name)}`;
  return `least(greatest(coalesce(CAST(${col} AS DOUBLE), ${sqlNumber(t.fill)}), ${sqlNumber(t.min)}), ${sqlNumber(t.max)})`;
}

/** The same transform for one value in JavaScript (null, undefined and NaN are missing). */
export function transformValue(t: FeatureTransform, value: number | null | undefined): number {
  const v = value === null || value === undefined || Number.isNaN(value) ? t.fill : value;
  return Math.min(Math.max(v, t.min), t.max);
}

/** A double literal DuckDB reads back as exactly the same double. */
function sqlNumber(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
  return `CAST(${JSON.stringify(value)} AS DOUBLE)`;
}
