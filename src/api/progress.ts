import { defineQuery } from '@temporalio/workflow';

/** What `mlpipe status` and the UI's query tab show for any pipeline run. */
export interface PipelineProgress {
  kind: string;
  stage: string;
  /** Finished steps, in order, with a one-line outcome each. */
  steps: { name: string; outcome: string }[];
  /** Artifact URIs the run produced so far. */
  artifacts: Record<string, string>;
  error?: string;
  /** Fan-out runs (backfills): where each partition stands. */
  partitions?: {
    total: number;
    alreadyDone: string[];
    done: string[];
    running: string[];
    failed: { partition: string; reason: string }[];
  };
}

export const progressQuery = defineQuery<PipelineProgress>('progress');
