import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import type { GateOverride, GateOverrideView } from '../../src/api/gate-override';
import { startFeaturePartition } from '../../src/client/features';
import { decideGate, gateOverrideView } from '../../src/client/gate-override';
import { registerSpec } from '../../src/specs';
import { flightsSpec } from '../../src/specs/flights';
import { flightFeatures } from '../../src/specs/flights-features';
import { openMetadataStore } from '../../src/store/database';
import { saveHistory } from '../helpers/histories';
import { ingestQuery } from '../helpers/sources';
import { testConfig, uniqueTaskQueue, useWorker, waitFor } from '../helpers/temporal';

/**
 * Feature validation may ask too (validation onFail: 'ask'): a partition whose features fail their
 * checks waits for two of the contract's reviewers to publish it anyway, or one to abort it. Here the
 * hour of day is declared to end at 12: every afternoon flight is out of range.
 */
const SPEC = 'flights-asking';
const spec = registerSpec({
  ...flightsSpec,
  name: SPEC,
  contract: {
    ...flightsSpec.contract,
    name: 'flights_asking',
    overrides: { reviewers: ['ana', 'ben', 'chen'], deadlineHours: 1 },
  },
  featureSet: {
    ...flightFeatures,
    name: 'flight_delay_asking',
    features: flightFeatures.features.map((f) => (f.name === 'hour_of_day' ? { ...f, range: [0, 12] } : f)),
    validation: { ...flightFeatures.validation, onFail: 'ask' },
  },
  model: undefined,
  monitoring: undefined,
});
const config = testConfig();
const taskQueue = uniqueTaskQueue('feature-override');
const temporal = useWorker(config, taskQueue);

/** Starts a partition and waits until it asks its reviewers. */
async function holding(partition: string) {
  const handle = await startFeaturePartition(temporal.client, config, { spec: SPEC, partition, taskQueue });
  let view: GateOverrideView | undefined;
  await waitFor(
    `${partition} to ask`,
    async () => (view = await gateOverrideView(temporal.client, handle.workflowId)).status === 'waiting',
    60_000,
    100,
  );
  return { handle, view: view! };
}

before(async () => {
  await temporal.ready();
  await ingestQuery(temporal.client, config, {
    spec: SPEC,
    batch: 'upto-0112',
    select: `SELECT * FROM flights WHERE date < TIMESTAMP '2001-01-13'`,
    taskQueue,
  });
});

describe('feature validation that asks', () => {
  test('two reviewers publish a partition whose features failed, the override in its lineage', async () => {
    const { handle, view } = await holding('2001-01-10');
    assert.deepEqual(
      view.failing.map((f) => f.check),
      ['range(hour_of_day)'],
    );
    await decideGate(temporal.client, handle.workflowId, {
      decision: 'override',
      reviewer: 'ana',
      reason: 'range typo in the spec',
    });
    await decideGate(temporal.client, handle.workflowId, {
      decision: 'override',
      reviewer: 'ben',
      reason: 'agreed, fix follows',
    });
    const result = await handle.result();
    await saveHistory('features-validation-overridden', handle);
    assert.ok(result.rows > 10_000);
    const store = await openMetadataStore(config.databaseUrl);
    try {
      const lineage = await store.lineage.get(result.offlineUri);
      const override = (lineage?.details as { gateOverride?: GateOverride } | undefined)?.gateOverride;
      assert.deepEqual(override?.checks, ['range(hour_of_day)']);
      assert.deepEqual(
        override?.overriddenBy.map((o) => o.reviewer),
        ['ana', 'ben'],
      );
      assert.ok(await store.features.get(spec.featureSet!.name, spec.featureSet!.version, '2001-01-10'));
    } finally {
      await store.close();
    }
  });

  test('one reviewer aborts: the run fails as the validation would have, and nothing is published', async () => {
    const { handle } = await holding('2001-01-11');
    await decideGate(temporal.client, handle.workflowId, { decision: 'abort', reviewer: 'chen', reason: 'not today' });
    const failure = await handle.result().then(
      () => assert.fail('an aborted partition must not be published'),
      (e: unknown) => e,
    );
    assert.ok(failure instanceof WorkflowFailedError);
    assert.equal((failure.cause as { type?: string }).type, 'FeatureValidationFailed');
    assert.match(String(failure.cause?.message), /range\(hour_of_day\).*\(aborted by chen: not today\)/);
    const store = await openMetadataStore(config.databaseUrl);
    try {
      assert.equal(await store.features.get(spec.featureSet!.name, spec.featureSet!.version, '2001-01-11'), undefined);
    } finally {
      await store.close();
    }
  });
});
