import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openMetadataStore } from '../../src/store/database';
import { FeatureDefinitionChangedError } from '../../src/store/feature-metadata';
import { definitionHash } from '../../src/features/feature-sql';
import { loadSpec } from '../../src/specs';
import { FeatureSetSchema } from '../../src/specs/feature-schema';
import { artifactStoreFor } from '../../src/data/open-artifact-store';
import { testConfig } from '../helpers/temporal';

/** Changing a feature's definition must bump the version; partitions are kept per version. */
test('a changed definition under the same version is refused; a new version is accepted', async () => {
  const config = testConfig();
  const store = await openMetadataStore(config.databaseUrl);
  try {
    const v1 = loadSpec('flights').featureSet!;
    await store.features.registerDefinition(v1.name, v1.version, definitionHash(v1));
    await store.features.registerDefinition(v1.name, v1.version, definitionHash(v1)); // same definition: fine

    const changed = FeatureSetSchema.parse({
      ...v1,
      features: v1.features.map((f) => (f.name === 'route_flights_7d' ? { ...f, windowDays: 14 } : f)),
    });
    assert.notEqual(definitionHash(changed), definitionHash(v1));
    await assert.rejects(
      store.features.registerDefinition(changed.name, changed.version, definitionHash(changed)),
      FeatureDefinitionChangedError,
    );

    const reworded = FeatureSetSchema.parse({
      ...v1,
      description: 'new prose',
      features: v1.features.map((f) => ({ ...f, description: `${f.description}.` })),
    });
    assert.equal(definitionHash(reworded), definitionHash(v1), 'documentation is not part of the definition');

    await store.features.registerDefinition(changed.name, '2', definitionHash(changed));
    const artifacts = artifactStoreFor(config);
    const day = '2001-01-10';
    assert.notEqual(
      artifacts.uri({ kind: 'features', name: v1.name, version: '1', partition: day }),
      artifacts.uri({ kind: 'features', name: v1.name, version: '2', partition: day }),
      'offline partitions of different versions never overwrite each other',
    );
  } finally {
    await store.close();
  }
});
