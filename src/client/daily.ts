import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { z } from 'zod';
import type { Config } from '../config';
import {
  dailyChainWorkflowId,
  DeliveryPatternSchema,
  WarehouseTableSchema,
  type DailyChain,
  type DeliverySensor,
} from '../api/daily';
import { PipelineKind, PipelineStage } from '../api/search-attributes';
import { redactUri } from '../data/redact-uri';
import { loadSpec } from '../specs';
import type { Spec } from '../specs/spec-schema';
import { DaySchema, InvalidRequestError, parseRequest } from './request';

export const StartDailyChainSchema = z.object({
  spec: z.string().min(1),
  day: DaySchema,
  source: z.string().min(1).max(2048),
  asOf: z.iso.datetime({ offset: true }).optional(),
  taskQueue: z.string().min(1).optional(),
});

export const LookSchema = z
  .object({
    spec: z.string().min(1),
    pattern: z.optional(DeliveryPatternSchema),
    table: z.optional(WarehouseTableSchema),
    taskQueue: z.string().min(1).optional(),
  })
  .refine((r) => (r.pattern === undefined) !== (r.table === undefined), {
    message: 'a sensor watches --pattern or --table: one of the two',
    path: ['pattern'],
  });

/** The spec, which must be a daily dataset: a chain is one day of one. */
export function dailySpecOf(name: string): Spec {
  let spec: Spec;
  try {
    spec = loadSpec(name);
  } catch (error) {
    throw new InvalidRequestError((error as Error).message);
  }
  if (spec.contract.partitioning !== 'daily')
    throw new InvalidRequestError(
      `spec ${spec.name} is not a daily dataset (its contract has no partitioning: 'daily'): ingest its snapshots with mlpipe ingest`,
    );
  return spec;
}

/** Starts one day's chain (`daily/<spec>/<day>`): ingest the delivery, then the day's features. */
export async function startDailyChain(
  client: Client,
  config: Config,
  request: z.input<typeof StartDailyChainSchema>,
): Promise<WorkflowHandleWithFirstExecutionRunId<DailyChain>> {
  const r = parseRequest(StartDailyChainSchema, request);
  const spec = dailySpecOf(r.spec);
  return client.workflow.start<DailyChain>('dailyChain', {
    workflowId: dailyChainWorkflowId(spec.name, r.day),
    taskQueue: r.taskQueue ?? config.TEMPORAL_TASK_QUEUE,
    args: [{ spec: spec.name, day: r.day, sourceUri: r.source, asOf: r.asOf && new Date(r.asOf).toISOString() }],
    typedSearchAttributes: [
      { key: PipelineKind, value: 'daily' },
      { key: PipelineStage, value: 'Starting' },
    ],
    staticSummary: `Daily ${spec.name} ${r.day}`,
  }) as Promise<WorkflowHandleWithFirstExecutionRunId<DailyChain>>;
}

/**
 * One look of a spec's sensor now (a Schedule runs the same workflow, `mlpipe schedule create --kind
 * sensor`). Its id is the spec and the pattern: a second look at the same folder while one runs is
 * refused by Temporal, so two looks never chain the same days at once.
 */
export async function startSensorLook(
  client: Client,
  config: Config,
  request: z.input<typeof LookSchema>,
): Promise<WorkflowHandleWithFirstExecutionRunId<DeliverySensor>> {
  const r = parseRequest(LookSchema, request);
  const spec = dailySpecOf(r.spec);
  return client.workflow.start<DeliverySensor>('deliverySensor', {
    workflowId: `sensor/${spec.name}/look/${r.pattern ?? redactUri(r.table!)}`,
    taskQueue: r.taskQueue ?? config.TEMPORAL_TASK_QUEUE,
    args: [{ spec: spec.name, pattern: r.pattern, table: r.table }],
    typedSearchAttributes: [
      { key: PipelineKind, value: 'sensor' },
      { key: PipelineStage, value: 'Starting' },
    ],
    staticSummary: `Sensor ${spec.name}: ${r.pattern ?? redactUri(r.table!)}`.slice(0, 200),
  }) as Promise<WorkflowHandleWithFirstExecutionRunId<DeliverySensor>>;
}
