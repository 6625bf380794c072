import type { OnlineStore } from './online-store';

/** How one feature may be served when its stored value ages. */
export interface FeatureServingPolicy {
  /** Up to this age the stored value is fresh. */
  maxStalenessHours: number;
  /** Beyond maxStaleness, the last good value is still served (flagged stale) for this much longer. */
  toleranceHours: number;
  /** Served when there is no usable stored value; documented with the feature. */
  default: number | null;
}

export type LookupSource = 'fresh' | 'stale-within-tolerance' | 'default';

export interface LookupResult {
  values: Record<string, number | null>;
  /** Of the stored row, when there is one (also when it was too old or from the future to use). */
  validFrom?: string;
  ageHours?: number;
  /** True if any feature was not fresh. */
  stale: boolean;
  /** The worst source among the features. */
  source: LookupSource;
  features: Record<string, { value: number | null; source: LookupSource }>;
}

const HOUR_MS = 3_600_000;
/** Worst last, for summarising per-feature sources. */
const SOURCE_RANK: readonly LookupSource[] = ['fresh', 'stale-within-tolerance', 'default'];

/**
 * The features named in `policies` for one entity as of `at`, each served by its own policy.
 * With age = at - validFrom (hours):
 * - age <= maxStalenessHours: the stored value, 'fresh';
 * - maxStalenessHours < age <= maxStalenessHours + toleranceHours: the stored (last good) value,
 *   'stale-within-tolerance';
 * - older, no stored row, no stored value for the feature, or validFrom after `at`: the policy's
 *   default, 'default'. A value from the future is never served for an earlier time: it would leak
 *   information the model could not have had then (e.g. when replaying past requests).
 * A stored null is a value the pipeline computed (e.g. no flights that day) and is served as such.
 * Features stored but without a policy are not served: the policies are the model's feature list.
 */
export async function lookupEntity(
  store: OnlineStore,
  featureSet: string,
  version: string,
  entityType: string,
  entityKey: string,
  at: Date,
  policies: Record<string, FeatureServingPolicy>,
): Promise<LookupResult> {
  const entries = Object.entries(policies);
  if (entries.length === 0) throw new Error('lookupEntity: no feature policies given');
  const row = await store.get(featureSet, version, entityType, entityKey);
  const ageHours = row && (at.getTime() - new Date(row.validFrom).getTime()) / HOUR_MS;

  const features: LookupResult['features'] = {};
  for (const [name, policy] of entries) {
    const source = sourceFor(policy, ageHours);
    const stored = row?.values[name];
    features[name] =
      source === 'default' || stored === undefined
        ? { value: policy.default, source: 'default' }
        : { value: stored, source };
  }

  const worst = Object.values(features).reduce(
    (acc, { source }) => (SOURCE_RANK.indexOf(source) > SOURCE_RANK.indexOf(acc) ? source : acc),
    'fresh' as LookupSource,
  );
  return {
    values: Object.fromEntries(Object.entries(features).map(([name, { value }]) => [name, value])),
    ...(row && { validFrom: row.validFrom, ageHours }),
    stale: worst !== 'fresh',
    source: worst,
    features,
  };
}

function sourceFor(policy: FeatureServingPolicy, ageHours: number | undefined): LookupSource {
  if (ageHours === undefined || ageHours < 0) return 'default';
  if (ageHours <= policy.maxStalenessHours) return 'fresh';
  if (ageHours <= policy.maxStalenessHours + policy.toleranceHours) return 'stale-within-tolerance';
  return 'default';
}
