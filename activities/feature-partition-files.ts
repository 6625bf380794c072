import { ApplicationFailure } from '@temporalio/activity';
import type { ArtifactStore } from '../src/data/artifact-store';

/**
 * The Parquet files of a published feature partition. The registry says it is published, so a partition
 * with no readable file means the store is unavailable (a mount gone, a disk full): retried with backoff.
 */
export async function featurePartitionFiles(
  artifacts: ArtifactStore,
  featureSet: { name: string; version: string },
  day: string,
): Promise<string[]> {
  const uri = artifacts.uri({ kind: 'features', name: featureSet.name, version: featureSet.version, partition: day });
  const dir = await artifacts.openIfPublished(uri);
  const files = dir ? await artifacts.parquetFiles(dir) : [];
  if (files.length === 0)
    throw ApplicationFailure.retryable(
      `feature store unavailable: published partition ${featureSet.name}@${featureSet.version}/${day} has no readable file at ${uri} (${artifacts.describe()})`,
      'FeatureStoreUnavailable',
    );
  return files;
}
