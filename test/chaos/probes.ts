import fs from 'node:fs';
import path from 'node:path';
import { ArtifactStore } from '../../src/data/artifact-store';
import type { MetadataStore } from '../../src/store/database';
import { trainingWorkspace } from '../../src/training/workspace';

/**
 * Progress as the pipelines persist it (files and metadata rows), read from outside the worker: the
 * chaos run kills on observed progress, not on wall-clock timers, so it lands the same way on a slow machine.
 */
export function persistedChunks(dataDir: string, batch: string): number {
  const dir = path.join(
    ArtifactStore.local(dataDir).workDir({ kind: 'datasets', name: 'flights', version: '1.0.0', partition: batch }),
    'chunks',
  );
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).length : 0;
}

export async function publishedPartitions(store: MetadataStore, featureSet: string): Promise<number> {
  const [name, version] = featureSet.split('@') as [string, string];
  const row = await store.db
    .selectFrom('feature_partitions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('feature_set', '=', name)
    .where('version', '=', version)
    .where('status', '=', 'published')
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export function trainingIteration(dataDir: string, model: string, workflowId: string, runId: string): number {
  const file = trainingWorkspace(ArtifactStore.local(dataDir), model, workflowId, runId).checkpoint;
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { iteration: number }).iteration;
  } catch {
    return 0;
  }
}

export function trainedModelExists(dataDir: string, model: string, workflowId: string, runId: string): boolean {
  return fs.existsSync(trainingWorkspace(ArtifactStore.local(dataDir), model, workflowId, runId).model);
}
