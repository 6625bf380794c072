import fs from 'node:fs';
import path from 'node:path';
import type { ArtifactStore } from '../../src/data/artifact-store';
import type { MetadataStore } from '../../src/store/database';
import { stepKey } from '../../activities/step-files';

/**
 * Progress as the pipelines persist it (files and metadata rows), read from outside the workers: the
 * chaos run kills on observed progress, not on wall-clock timers, so it lands the same way on a slow
 * machine. Files are read through `observer`, an artifact store of the run's: the workers' directory,
 * or in a fleet a scratch cache of its own over the object store (what a resuming host would find).
 */
export async function persistedChunks(observer: ArtifactStore, batch: string): Promise<number> {
  const key = { kind: 'datasets' as const, name: 'flights', version: '1.0.0', partition: batch };
  const dir = path.join(await observer.restore(key, 'work'), 'chunks');
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

/** The training run's progress: its last checkpointed iteration, or `trained` once its model exists. */
export async function trainingProgress(
  observer: ArtifactStore,
  model: string,
  run: { workflowId: string; runId: string },
  trained: number,
): Promise<number> {
  // The Training step publishes the model under its step key and checkpoints in that key's work area.
  const key = stepKey({ kind: 'models', name: model }, run, 'train');
  if (await observer.isPublished(key)) return trained;
  const checkpoint = path.join(await observer.restore(key, 'work'), 'checkpoint.json');
  try {
    return (JSON.parse(fs.readFileSync(checkpoint, 'utf8')) as { iteration: number }).iteration;
  } catch {
    return 0;
  }
}
