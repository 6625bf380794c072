import { lookupEntity, type LookupSource } from '../features/lookup';
import type { OnlineStore } from '../features/online-store';
import { servingPolicies } from '../features/serving-policies';
import type { ServedModel } from './served-models';

/** Where a served feature value came from: the online store (by freshness), or the request row. */
export type FeatureSource = LookupSource | 'event';

export interface ServedFeature {
  value: number | null;
  source: FeatureSource;
}

/**
 * The online features of a row's entities as of its event time, each under its feature's serving
 * policy: fresh, the last good value within tolerance, or the documented default.
 */
export async function lookupEntityFeatures(
  online: OnlineStore,
  served: ServedModel,
  entityKeys: Record<string, string | null>,
  at: Date,
): Promise<Record<string, ServedFeature>> {
  const fs = served.featureSet;
  const perEntity = await Promise.all(
    served.entities.map(async ({ name }) => {
      const policies = servingPolicies(fs, name);
      const key = entityKeys[name];
      // Null key columns name no entity: every feature gets its default, as for an unknown one.
      if (key === null || key === undefined) {
        return Object.entries(policies).map(([feature, p]): [string, ServedFeature] => [
          feature,
          { value: p.default, source: 'default' },
        ]);
      }
      const found = await lookupEntity(online, fs.name, fs.version, name, key, at, policies);
      return Object.entries(found.features);
    }),
  );
  return Object.fromEntries(perEntity.flat());
}
