import { z } from 'zod';
import { ContractSchema } from './contract-schema';
import { FeatureSetSchema } from './feature-schema';
import { ModelSpecSchema } from './model-schema';
import { MonitoringSpecSchema } from './monitoring-schema';

/**
 * A pipeline spec: one place per model. The data contract comes first; the feature set, model, gates,
 * schedule and reviewers join it as the pipelines that use them arrive.
 */
export const SpecSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes'),
    version: z.string().regex(/^\d+\.\d+\.\d+$/, 'must be a semantic version like 1.0.0'),
    description: z.string().default(''),
    contract: ContractSchema,
    /**
     * The source ingested when none is named (a URI the source readers understand). A daily dataset
     * usually has none: each night names its own file.
     */
    defaultSource: z.string().min(1).optional(),
    /** Rows per checkpointed chunk during ingestion. */
    chunkRows: z.number().int().positive().default(1_000_000),
    /** The features training and serving share, computed over the contract's rows. */
    featureSet: FeatureSetSchema.optional(),
    /** The model trained on the feature set: label, segments, gates, reviewers. */
    model: ModelSpecSchema.optional(),
    /** How the production model is watched: label delay, drift and degradation thresholds, retraining trigger. */
    monitoring: MonitoringSpecSchema.optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.featureSet?.validation.onFail === 'ask' && !spec.contract.overrides)
      ctx.addIssue({
        code: 'custom',
        message:
          "features with onFail: 'ask' need the contract's overrides: { reviewers: [two or more people] } to ask",
        path: ['featureSet', 'validation', 'onFail'],
      });
    if (spec.monitoring && !spec.model)
      ctx.addIssue({ code: 'custom', message: 'monitoring needs a model to watch', path: ['monitoring'] });
    if (!spec.model) return;
    if (!spec.featureSet) {
      ctx.addIssue({ code: 'custom', message: 'a model needs a featureSet to train on', path: ['model'] });
      return;
    }
    const columns = new Set(spec.contract.columns.map((c) => c.name));
    for (const name of spec.model.servingInput) {
      if (!columns.has(name))
        ctx.addIssue({
          code: 'custom',
          message: `servingInput column ${name} is not in contract ${spec.contract.name}`,
          path: ['model', 'servingInput'],
        });
    }
    if (!spec.model.servingInput.includes(spec.contract.eventTime))
      ctx.addIssue({
        code: 'custom',
        message: `servingInput must include the event time column ${spec.contract.eventTime}`,
        path: ['model', 'servingInput'],
      });
    const known = new Set(spec.featureSet.features.map((f) => f.name));
    for (const name of spec.model.features ?? []) {
      if (!known.has(name))
        ctx.addIssue({
          code: 'custom',
          message: `model feature ${name} is not in feature set ${spec.featureSet.name}`,
          path: ['model', 'features'],
        });
    }
  });
export type Spec = z.infer<typeof SpecSchema>;
export type SpecInput = z.input<typeof SpecSchema>;
