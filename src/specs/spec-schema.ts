import { z } from 'zod';
import { ContractSchema } from './contract-schema';
import { FeatureSetSchema } from './feature-schema';

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
    /** The source ingested when none is named (a URI the source readers understand). */
    defaultSource: z.string().min(1),
    /** Rows per checkpointed chunk during ingestion. */
    chunkRows: z.number().int().positive().default(1_000_000),
    /** The features training and serving share, computed over the contract's rows. */
    featureSet: FeatureSetSchema.optional(),
  })
  .strict();
export type Spec = z.infer<typeof SpecSchema>;
export type SpecInput = z.input<typeof SpecSchema>;
