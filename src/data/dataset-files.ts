import { addDays, partitionRange } from '../features/partition-dates';
import type { Spec } from '../specs/spec-schema';
import type { MetadataStore } from '../store/database';
import type { ArtifactStore } from './artifact-store';
import { batchKeys } from './batch-keys';

/**
 * The published Parquet files of a spec's dataset that hold the days `from`..`to`: the newest batch of
 * a snapshot dataset (a snapshot holds every day), or the published day partitions of a daily one (a
 * night never delivered is simply absent: the reader's own checks say what that means).
 */
export async function datasetFiles(
  { artifacts, store }: { artifacts: ArtifactStore; store: MetadataStore },
  spec: Spec,
  days: { from: string; to: string },
): Promise<string[]> {
  if (spec.contract.partitioning === 'daily') {
    const files: string[] = [];
    for (const day of partitionRange(days.from, days.to)) {
      const dir = await artifacts.openIfPublished(artifacts.uri(batchKeys(spec.contract, day).dataset));
      if (dir) files.push(...(await artifacts.parquetFiles(dir)));
    }
    return files;
  }
  const dataset = await store.runStats.latestPublished(spec.contract.name);
  return dataset?.outputUri ? artifacts.parquetFiles(await artifacts.open(dataset.outputUri)) : [];
}

/** The days a label can arrive in for events of `from`..`to`: those days and the label delay after them. */
export function labelDays(from: string, to: string, labelDelayHours: number): { from: string; to: string } {
  return { from, to: addDays(to, Math.ceil(labelDelayHours / 24)) };
}
