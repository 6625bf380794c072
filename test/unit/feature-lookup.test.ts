import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lookupEntity, type FeatureServingPolicy } from '../../src/features/lookup';
import type { OnlineRow, OnlineStore } from '../../src/features/online-store';

/** Test double of the store interface: the unit under test is the serving policy, not storage. */
class MemoryStore implements OnlineStore {
  private readonly rows = new Map<string, OnlineRow & { updatedAt: string }>();

  async upsert(featureSet: string, version: string, entityType: string, rows: OnlineRow[]): Promise<number> {
    for (const row of rows) {
      this.rows.set([featureSet, version, entityType, row.entityKey].join('|'), { ...row, updatedAt: row.validFrom });
    }
    return rows.length;
  }

  async get(featureSet: string, version: string, entityType: string, entityKey: string) {
    return this.rows.get([featureSet, version, entityType, entityKey].join('|'));
  }

  async list(): Promise<OnlineRow[]> {
    return [...this.rows.values()];
  }

  async close(): Promise<void> {}
}

const VALID_FROM = '2024-01-10T00:00:00.000Z';
const hoursAfter = (hours: number): Date => new Date(Date.parse(VALID_FROM) + hours * 3_600_000);

/** Both features: fresh up to 24 h, then stale-but-served for 12 h more. */
const POLICIES: Record<string, FeatureServingPolicy> = {
  dep_delay_mean_7d: { maxStalenessHours: 24, toleranceHours: 12, default: 10 },
  cancel_rate_7d: { maxStalenessHours: 24, toleranceHours: 12, default: null },
};

async function storeWithJfk(): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.upsert('airport_delays', 'v1', 'airport', [
    { entityKey: 'JFK', validFrom: VALID_FROM, values: { dep_delay_mean_7d: 17.5, cancel_rate_7d: null, unused: 1 } },
  ]);
  return store;
}

const lookup = (store: OnlineStore, at: Date, policies = POLICIES, entityKey = 'JFK') =>
  lookupEntity(store, 'airport_delays', 'v1', 'airport', entityKey, at, policies);

describe('lookupEntity', () => {
  test('within maxStaleness (boundary included): stored values, fresh', async () => {
    const result = await lookup(await storeWithJfk(), hoursAfter(24));
    assert.deepEqual(result, {
      // A stored null is a computed value and is served, not replaced by the default; features
      // without a policy ('unused') are not served.
      values: { dep_delay_mean_7d: 17.5, cancel_rate_7d: null },
      validFrom: VALID_FROM,
      ageHours: 24,
      stale: false,
      source: 'fresh',
      features: {
        dep_delay_mean_7d: { value: 17.5, source: 'fresh' },
        cancel_rate_7d: { value: null, source: 'fresh' },
      },
    });
  });

  test('past maxStaleness but within tolerance: the last good values, flagged stale', async () => {
    for (const hours of [24.5, 36]) {
      const result = await lookup(await storeWithJfk(), hoursAfter(hours));
      assert.deepEqual(result.values, { dep_delay_mean_7d: 17.5, cancel_rate_7d: null }, `at +${hours} h`);
      assert.equal(result.stale, true);
      assert.equal(result.source, 'stale-within-tolerance');
      assert.equal(result.ageHours, hours);
    }
  });

  test('older than maxStaleness + tolerance: the defaults', async () => {
    const result = await lookup(await storeWithJfk(), hoursAfter(36.01));
    assert.deepEqual(result.values, { dep_delay_mean_7d: 10, cancel_rate_7d: null });
    assert.equal(result.stale, true);
    assert.equal(result.source, 'default');
    // The too-old row is still reported, to explain why defaults were served.
    assert.equal(result.validFrom, VALID_FROM);
  });

  test('unknown entity: the defaults, with no validFrom or age', async () => {
    const result = await lookup(await storeWithJfk(), hoursAfter(1), POLICIES, 'XYZ');
    assert.deepEqual(result, {
      values: { dep_delay_mean_7d: 10, cancel_rate_7d: null },
      stale: true,
      source: 'default',
      features: {
        dep_delay_mean_7d: { value: 10, source: 'default' },
        cancel_rate_7d: { value: null, source: 'default' },
      },
    });
  });

  test('a value from the future is never served for an earlier time', async () => {
    const result = await lookup(await storeWithJfk(), hoursAfter(-0.001));
    assert.deepEqual(result.values, { dep_delay_mean_7d: 10, cancel_rate_7d: null });
    assert.equal(result.source, 'default');
    assert.ok(result.ageHours !== undefined && result.ageHours < 0);
  });

  test('per-feature policies: each feature by its own policy, the summary is the worst', async () => {
    const policies: Record<string, FeatureServingPolicy> = {
      dep_delay_mean_7d: { maxStalenessHours: 48, toleranceHours: 0, default: 10 },
      cancel_rate_7d: { maxStalenessHours: 6, toleranceHours: 6, default: 0 },
      // Has a policy but the pipeline did not store it: its default, whatever the age.
      missing_feature: { maxStalenessHours: 1000, toleranceHours: 0, default: -1 },
    };
    const at30h = await lookup(await storeWithJfk(), hoursAfter(30), policies);
    assert.deepEqual(at30h.features, {
      dep_delay_mean_7d: { value: 17.5, source: 'fresh' },
      cancel_rate_7d: { value: 0, source: 'default' },
      missing_feature: { value: -1, source: 'default' },
    });
    assert.equal(at30h.source, 'default');
    assert.equal(at30h.stale, true);

    const at10h = await lookup(await storeWithJfk(), hoursAfter(10), {
      dep_delay_mean_7d: policies.dep_delay_mean_7d!,
      cancel_rate_7d: policies.cancel_rate_7d!,
    });
    assert.deepEqual(at10h.features, {
      dep_delay_mean_7d: { value: 17.5, source: 'fresh' },
      cancel_rate_7d: { value: null, source: 'stale-within-tolerance' },
    });
    assert.equal(at10h.source, 'stale-within-tolerance');
    assert.equal(at10h.stale, true);
  });

  test('no policies is a caller error, not an empty success', async () => {
    await assert.rejects(lookup(await storeWithJfk(), hoursAfter(1), {}), /no feature policies/);
  });
});
