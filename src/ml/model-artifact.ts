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
 * The built-in model, serialized: everything serving needs to turn raw feature values into a probability,
 * plus the lineage that says what it was trained on and with which code. Weights apply to
 * standardized features, in `features` order.
 */
const LogisticArtifactSchema = z
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
/** The lineage of a model trained by a trainer command: what ran, in which environment. */
const TrainerLineageSchema = z
  .object({
    command: z.array(z.string()).min(1),
    /** The sha256 of the requirements file the Python environment was made from, and its Python. */
    environment: z.object({ requirementsSha256: z.string().optional(), python: z.string().optional() }).strict(),
    iterations: z.number().int().nonnegative(),
    /** The trainer's own metrics on the test split, as it reported them. */
    metrics: z.record(z.string(), finite),
    resumedFrom: z.number().int().nonnegative().optional(),
  })
  .strict();

const fileName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a file name beside model.json');

/**
 * A model trained by a trainer command, scored as ONNX (onnxruntime-node) everywhere after training.
 * Its files sit beside model.json: the ONNX model and the trainer's native files.
 */
const OnnxArtifactSchema = z
  .object({
    kind: z.literal('onnx'),
    features: z.array(z.string().min(1)).min(1),
    onnx: fileName,
    native: z.array(fileName),
    threshold: finite.min(0).max(1),
    trainedAt: z.iso.datetime({ offset: true }),
    hyperParameters: z.record(z.string(), z.json()),
    trainer: TrainerLineageSchema,
    /** The trainer's own scores against the ONNX model's in Node, on every test row. */
    parity: z.object({ rows: z.number().int().positive(), maxAbsDifference: finite.nonnegative() }).strict(),
    trainingDataHash: z.string().min(1),
    featureSetVersion: z.string().min(1),
    specVersion: z.string().min(1),
    codeVersion: z.string().min(1),
    metrics: MetricsSchema.optional(),
  })
  .strict();

export const ModelArtifactSchema = z.discriminatedUnion('kind', [LogisticArtifactSchema, OnnxArtifactSchema]);
export type ModelArtifact = z.infer<typeof ModelArtifactSchema>;
export type LogisticArtifact = z.infer<typeof LogisticArtifactSchema>;

/** Batch scoring of raw (unstandardized, NaN = missing) columns in `artifact.features` order. */
export function scoreColumns(artifact: LogisticArtifact, columns: Columns, rows: number): Float64Array {
  const standardized = Standardizer.fromJSON(artifact.standardizer).transform(columns, rows);
  return predict(artifact, standardized);
}
