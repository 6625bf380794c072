import { loadSpec } from '../specs';
import type { Spec } from '../specs/spec-schema';
import type { FeatureSet } from '../specs/feature-schema';
import type { ModelSpec } from '../specs/model-schema';
import { featureTransforms, type FeatureTransform } from '../ml/feature-transform';

/** A spec that declares a model, with the parts training reads. */
export interface TrainingSpec {
  spec: Spec;
  fs: FeatureSet;
  model: ModelSpec;
  transforms: FeatureTransform[];
  features: string[];
}

export function loadTrainingSpec(name: string): TrainingSpec {
  const spec = loadSpec(name);
  if (!spec.featureSet || !spec.model)
    throw new Error(`spec ${name} declares no ${spec.featureSet ? 'model' : 'feature set'} to train`);
  const transforms = featureTransforms(spec.featureSet, spec.model);
  return { spec, fs: spec.featureSet, model: spec.model, transforms, features: transforms.map((t) => t.name) };
}
