import path from 'node:path';
import type { ArtifactKey, ArtifactStore } from '../data/artifact-store';

/**
 * Where one training run keeps its intermediate files: fixed by (model, workflow run), so a retried
 * step finds what the previous steps wrote, and a new run never reads an older run's files.
 */
export interface TrainingWorkspace {
  /** The artifact store's work area the files live in (mirrored to an object store between steps). */
  key: ArtifactKey;
  dir: string;
  /** Extracted rows with label, day and segment columns, in a fixed order. */
  window: string;
  /** Model inputs after the feature transform; unlabelled rows set aside. */
  transformed: string;
  /** The binary feature matrix (its sha256 is the training-data hash). */
  matrix: string;
  matrixHash: string;
  split: string;
  /** The last training checkpoint, also sent as heartbeat details. */
  checkpoint: string;
  model: string;
  evaluation: string;
  /** A trainer command's folder: its input, the splits it reads, its checkpoints and its outputs. */
  trainer: string;
}

/** A workflow run as one artifact path segment. */
export function runKey(workflowId: string, runId: string): string {
  return `${workflowId}.${runId}`.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200);
}

export function trainingWorkspace(
  artifacts: ArtifactStore,
  modelName: string,
  workflowId: string,
  runId: string,
): TrainingWorkspace {
  const key: ArtifactKey = { kind: 'models', name: modelName, version: 'runs', partition: runKey(workflowId, runId) };
  const dir = artifacts.workDir(key);
  const file = (name: string) => path.join(dir, name);
  return {
    key,
    dir,
    window: file('window.parquet'),
    transformed: file('transformed.parquet'),
    matrix: file('matrix.bin'),
    matrixHash: file('matrix.sha256'),
    split: file('split.json'),
    checkpoint: file('checkpoint.json'),
    model: file('model.json'),
    evaluation: file('evaluation.json'),
    trainer: file('trainer'),
  };
}
