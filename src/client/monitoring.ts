import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { z } from 'zod';
import type { Config } from '../config';
import { ModelName, PipelineKind, PipelineStage } from '../api/search-attributes';
import { monitoringWorkflowId, type MonitoringPipeline } from '../api/monitoring';
import { DaySchema, InvalidRequestError, parseRequest } from './request';
import { modelSpecOf } from './training';

export const StartMonitoringSchema = z
  .object({ spec: z.string().min(1), from: DaySchema, to: DaySchema, taskQueue: z.string().min(1).optional() })
  .refine((r) => r.from <= r.to, { message: '--from must not be after --to', path: ['from'] });

/** The spec of a monitored model, or a clear refusal. */
export function monitoredSpecOf(
  specName: string,
): ReturnType<typeof modelSpecOf> & { monitoring: NonNullable<ReturnType<typeof modelSpecOf>['monitoring']> } {
  const spec = modelSpecOf(specName);
  if (!spec.monitoring) throw new InvalidRequestError(`spec ${spec.name} declares no monitoring settings`);
  return spec as ReturnType<typeof monitoredSpecOf>;
}

/** Starts `monitoringPipeline` for one window of the spec's production model. */
export async function startMonitoring(
  client: Client,
  config: Config,
  request: z.input<typeof StartMonitoringSchema>,
): Promise<WorkflowHandleWithFirstExecutionRunId<MonitoringPipeline>> {
  const r = parseRequest(StartMonitoringSchema, request);
  const spec = monitoredSpecOf(r.spec);
  return client.workflow.start<MonitoringPipeline>('monitoringPipeline', {
    workflowId: monitoringWorkflowId(spec.model.name, r.from, r.to),
    taskQueue: r.taskQueue ?? config.TEMPORAL_TASK_QUEUE,
    args: [{ spec: spec.name, from: r.from, to: r.to }],
    typedSearchAttributes: [
      { key: PipelineKind, value: 'monitoring' },
      { key: PipelineStage, value: 'Starting' },
      { key: ModelName, value: spec.model.name },
    ],
    staticSummary: `Monitor ${spec.model.name} on ${r.from}..${r.to}`,
    memo: { specVersion: spec.version },
  });
}
