import { z } from 'zod';
import type { Columns } from './columns';
import { predict, type TrainOptions } from './logistic-regression';
import type { ModelMetrics } from './metrics';
import { Standardizer } from './standardizer';

/** Every number in an artifact must be finite, which zod 4 numbers enforce (no NaN, no ±Infinity). */
const finite = z.number();

const MetricsSchema: z.ZodType<ModelMetrics> = z
  .object({
    rows: z.number().int().positive(),
    baseRate: finite.min(0).max(1),
    auc: finite.min(0).max(1),
    logLoss: finite.nonnegative(),
    accuracy: finite.min(0).max(1),
    precision: finite.min(0).max(1),
    recall: finite.min(0).max(1),
    threshold: finite,
    ece: finite.min(0).max(1),
  })
  .strict();

const HyperParametersSchema: z.ZodType<TrainOptions> = z
  .object({ l2: finite.positive(), maxIterations: z.number().int().nonnegative(), tolerance: finite.nonnegative() })
  .strict();

/**
 * The serialized model: everything serving needs to turn raw feature values into a probability,
 * plus the lineage that says what it was trained on and with which code. Weights apply to
 * standardized features, in `features` order.
 */
export const ModelArtifactSchema = z
  .object({
    kind: z.literal('logistic-regression'),
    features: z.array(z.string().min(1)).min(1),
    standardizer: z.object({ means: z.array(finite), stds: z.array(finite.positive()) }).strict(),
    weights: z.array(finite),
    intercept: finite,
    /** Probability at or above which a row is called positive (late). */
    threshold: finite.min(0).max(1),
    trainedAt: z.iso.datetime({ offset: true }),
    hyperParameters: HyperParametersSchema,
    trainingDataHash: z.string().min(1),
    featureSetVersion: z.string().min(1),
    specVersion: z.string().min(1),
    codeVersion: z.string().min(1),
    /** Held-out evaluation, when the pipeline computed one. */
    metrics: MetricsSchema.optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    const d = a.features.length;
    if (new Set(a.features).size !== d)
      ctx.addIssue({ code: 'custom', message: 'duplicate feature names', path: ['features'] });
    for (const [name, length] of [
      ['weights', a.weights.length],
      ['standardizer.means', a.standardizer.means.length],
      ['standardizer.stds', a.standardizer.stds.length],
    ] as const) {
      if (length !== d) ctx.addIssue({ code: 'custom', message: `${name} has ${length} entries for ${d} features` });
    }
  });
export type ModelArtifact = z.infer<typeof ModelArtifactSchema>;

/** Batch scoring of raw (unstandardized, NaN = missing) columns in `artifact.features` order. */
export function scoreColumns(artifact: ModelArtifact, columns: Columns, rows: number): Float64Array {
  const standardized = Standardizer.fromJSON(artifact.standardizer).transform(columns, rows);
  return predict(artifact, standardized);
}

/**
 * Online scoring of a few rows keyed by feature name; null is a missing value. The rows become
 * columns and go through `scoreColumns`, the batch path, so training and serving cannot drift
 * apart. A feature absent from a row is an error, not a missing value: it means the caller and
 * the model disagree on the feature set.
 */
export function scoreRows(artifact: ModelArtifact, rows: readonly Record<string, number | null>[]): Float64Array {
  const columns = artifact.features.map((name) => {
    const column = new Float64Array(rows.length);
    rows.forEach((row, i) => {
      const value = row[name];
      if (value === undefined) throw new RangeError(`row ${i} has no value for feature ${name}`);
      column[i] = value ?? NaN;
    });
    return column;
  });
  return scoreColumns(artifact, columns, rows.length);
}
