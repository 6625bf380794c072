import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { z } from 'zod';
import type { Config } from '../config';
import { ModelName, PipelineKind, PipelineStage } from '../api/search-attributes';
import { scoringWorkflowId, type ScoringPipeline } from '../api/scoring';
import { DaySchema, parseRequest } from './request';
import { modelSpecOf } from './training';

export const StartScoringSchema = z
  .object({
    spec: z.string().min(1),
    from: DaySchema,
    to: DaySchema,
    version: z.coerce.number().int().positive().optional(),
    taskQueue: z.string().min(1).optional(),
  })
  .refine((r) => r.from <= r.to, { message: '--from must not be after --to', path: ['from'] });

/** Starts `scoringPipeline` for a window of the spec's feature partitions (one run per model and window). */
export async function startScoring(
  client: Client,
  config: Config,
  request: z.input<typeof StartScoringSchema>,
): Promise<WorkflowHandleWithFirstExecutionRunId<ScoringPipeline>> {
  const r = parseRequest(StartScoringSchema, request);
  const spec = modelSpecOf(r.spec);
  return client.workflow.start<ScoringPipeline>('scoringPipeline', {
    workflowId: scoringWorkflowId(spec.model.name, r.from, r.to),
    taskQueue: r.taskQueue ?? config.TEMPORAL_TASK_QUEUE,
    args: [{ spec: spec.name, from: r.from, to: r.to, ...(r.version !== undefined ? { version: r.version } : {}) }],
    typedSearchAttributes: [
      { key: PipelineKind, value: 'scoring' },
      { key: PipelineStage, value: 'Starting' },
      { key: ModelName, value: spec.model.name },
    ],
    staticSummary: `Score ${r.from}..${r.to} with ${spec.model.name} ${r.version !== undefined ? `v${r.version}` : 'production'}`,
    memo: { specVersion: spec.version },
  });
}
