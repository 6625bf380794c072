import type { z } from 'zod';
import { featureTransforms, type FeatureTransform } from '../ml/feature-transform';
import type { Column } from '../specs/contract-schema';
import type { Feature, FeatureSet } from '../specs/feature-schema';
import type { ModelSpec } from '../specs/model-schema';
import type { Spec } from '../specs/spec-schema';
import { loadSpec, specNames } from '../specs';
import { predictRequestSchema, type PredictRequest } from './request-schema';

/** Everything about a model that follows from its spec, worked out once when the server starts. */
export interface ServedModel {
  spec: Spec;
  featureSet: FeatureSet;
  model: ModelSpec;
  /** The model's inputs in model order, with the transform training applied to them. */
  transforms: FeatureTransform[];
  /** The contract columns a request row carries (the spec's servingInput). */
  inputColumns: Column[];
  /** The model's event features: computed from the request row itself. */
  eventFeatures: Feature[];
  /** The entities whose online features the model reads. */
  entities: FeatureSet['entities'];
  requestSchema: z.ZodType<PredictRequest>;
}

/**
 * The models of every registered spec, by registry name. Specs may share a model when they differ
 * only in how it is trained and judged (gates, window, reviewers); two specs that would serve one
 * model from different inputs are a spec bug.
 */
export function servedModels(): Map<string, ServedModel> {
  const models = new Map<string, ServedModel>();
  for (const name of specNames()) {
    const spec = loadSpec(name);
    if (!spec.model || !spec.featureSet) continue;
    const served = servedModel(spec, spec.featureSet, spec.model);
    const other = models.get(spec.model.name);
    if (other && servingInputsOf(other) !== servingInputsOf(served))
      throw new Error(
        `model ${spec.model.name} is served from different inputs by specs ${other.spec.name} and ${spec.name}`,
      );
    if (!other) models.set(spec.model.name, served);
  }
  return models;
}

/** What serving computes a model's inputs from: the contract, the feature set, the request columns and the transforms. */
function servingInputsOf(m: ServedModel): string {
  return JSON.stringify([m.spec.contract, m.featureSet, m.model.servingInput, m.transforms]);
}

function servedModel(spec: Spec, featureSet: FeatureSet, model: ModelSpec): ServedModel {
  const transforms = featureTransforms(featureSet, model);
  // Both finds succeed: featureTransforms refuses unknown features, spec validation unknown columns.
  const features = transforms.map((t) => featureSet.features.find((f) => f.name === t.name)!);
  const entityNames = new Set(features.flatMap((f) => (f.kind === 'entity' ? [f.entity!] : [])));
  const inputColumns = model.servingInput.map((name) => spec.contract.columns.find((c) => c.name === name)!);
  return {
    spec,
    featureSet,
    model,
    transforms,
    inputColumns,
    eventFeatures: features.filter((f) => f.kind === 'event'),
    entities: featureSet.entities.filter((e) => entityNames.has(e.name)),
    requestSchema: predictRequestSchema(inputColumns),
  };
}
