import type { FeatureSet } from '../specs/feature-schema';
import type { FeatureServingPolicy } from './lookup';

/** The serving policies of an entity's features, as the spec documents them (null default if none). */
export function servingPolicies(fs: FeatureSet, entity: string): Record<string, FeatureServingPolicy> {
  return Object.fromEntries(
    fs.features
      .filter((f) => f.kind === 'entity' && f.entity === entity)
      .map((f) => [
        f.name,
        {
          maxStalenessHours: f.serving?.maxStalenessHours ?? 48,
          toleranceHours: f.serving?.toleranceHours ?? 72,
          default: f.serving?.default ?? null,
        },
      ]),
  );
}
