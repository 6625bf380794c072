import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryLookups } from '../../src/serving/registry-lookups';
import type { ModelRegistryRepository, ModelVersion } from '../../src/store/model-registry';
import type { ModelStage } from '../../src/store/tables';

/** A registry of one model whose production version can be changed, counting the queries it answers. */
function fakeRegistry() {
  const state = { production: 1, queries: [] as string[] };
  const version = (n: number, stage: ModelStage) => ({ modelName: 'm', version: n, stage }) as ModelVersion;
  const registry = {
    async inStage(modelName: string, stage: ModelStage) {
      state.queries.push(`${modelName} ${stage}`);
      return stage === 'production' ? version(state.production, stage) : undefined;
    },
    async get(modelName: string, n: number) {
      state.queries.push(`${modelName} v${n}`);
      return version(n, n === state.production ? 'production' : 'archived');
    },
  } as unknown as ModelRegistryRepository;
  return { state, registry };
}

describe('RegistryLookups', () => {
  it('asks the registry once per distinct lookup of the requests of one turn', async () => {
    const { state, registry } = fakeRegistry();
    const lookups = new RegistryLookups(registry);
    const answers = await Promise.all([
      lookups.find({ modelName: 'm', stage: 'production' }),
      lookups.find({ modelName: 'm', stage: 'production' }),
      lookups.find({ modelName: 'm', stage: 'staging' }),
      lookups.find({ modelName: 'm', version: 3 }),
    ]);
    assert.deepEqual(
      answers.map((a) => a && `${a.version} ${a.stage}`),
      ['1 production', '1 production', undefined, '3 archived'],
    );
    assert.deepEqual(state.queries, ['m production', 'm staging', 'm v3']);
  });

  it('keeps no answer between turns: a promotion is seen by the next lookup', async () => {
    const { state, registry } = fakeRegistry();
    const lookups = new RegistryLookups(registry);
    assert.equal((await lookups.find({ modelName: 'm', stage: 'production' }))?.version, 1);
    state.production = 2;
    assert.equal((await lookups.find({ modelName: 'm', stage: 'production' }))?.version, 2);
    assert.equal(state.queries.length, 2);
  });
});
