import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { z } from 'zod';
import type { Config } from '../config';
import { loadSpec } from '../specs';
import type { Spec } from '../specs/spec-schema';
import { ModelName, PipelineKind, PipelineStage } from '../api/search-attributes';
import type { TrainingPipeline, TrainingInput } from '../api/training';
import type { ModelRollback } from '../api/models';
import { approvalQuery, decideUpdate, type ApprovalDecision, type ApprovalView } from '../api/approval';
import { timestampBatchId } from './ingestion';
import { DaySchema, InvalidRequestError, parseRequest } from './request';

export const PersonSchema = z
  .string()
  .regex(/^[A-Za-z0-9._@-]{1,100}$/, 'letters, digits, ".", "_", "@" and "-" only (at most 100)');
const HOUR_MS = 3_600_000;

/** A duration like 72h, 30m, 45s or 2d, as milliseconds. */
export const DurationSchema = z
  .string()
  .regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/, 'a duration like 72h, 30m, 90s or 2d')
  .transform((text) => {
    const [, amount, unit] = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text)!;
    return Math.round(Number(amount) * { ms: 1, s: 1000, m: 60_000, h: HOUR_MS, d: 24 * HOUR_MS }[unit as 'ms']);
  })
  .pipe(
    z
      .number()
      .int()
      .min(1000, 'at least 1s')
      .max(90 * 24 * HOUR_MS, 'at most 90d'),
  );

export const StartTrainingSchema = z
  .object({
    spec: z.string().min(1),
    from: DaySchema.optional(),
    to: DaySchema.optional(),
    initiatedBy: PersonSchema,
    approvalTimeout: DurationSchema.optional(),
    reason: z.string().max(2000).optional(),
    trainingHeartbeatTimeoutMs: z.coerce.number().int().min(1000).max(600_000).optional(),
    /** Defaults to yyyymmdd-hhmm (UTC) of now: training/<model>/<run>. */
    runId: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,100}$/)
      .optional(),
    taskQueue: z.string().min(1).optional(),
  })
  .refine((r) => !r.from || !r.to || r.from <= r.to, { message: '--from must not be after --to', path: ['from'] });
export type StartTraining = z.input<typeof StartTrainingSchema>;

/** The spec and its model section, or a usage error. */
export function modelSpecOf(specName: string): Spec & { model: NonNullable<Spec['model']> } {
  let spec: Spec;
  try {
    spec = loadSpec(specName);
  } catch (error) {
    throw new InvalidRequestError((error as Error).message);
  }
  if (!spec.model) throw new InvalidRequestError(`spec ${specName} declares no model to train`);
  return spec as Spec & { model: NonNullable<Spec['model']> };
}

export function trainingWorkflowId(modelName: string, run: string): string {
  return `training/${modelName}/${run}`;
}

/**
 * Starts `trainingPipeline` on the spec's default window unless --from/--to say otherwise. Async, like
 * the other request functions here, so an invalid request rejects the promise instead of throwing
 * before the caller's `.catch` is attached.
 */
export async function startTraining(
  client: Client,
  config: Config,
  request: StartTraining,
): Promise<WorkflowHandleWithFirstExecutionRunId<TrainingPipeline>> {
  const r = parseRequest(StartTrainingSchema, request);
  const spec = modelSpecOf(r.spec);
  const input: TrainingInput = {
    spec: spec.name,
    from: r.from ?? spec.model.defaultWindow.from,
    to: r.to ?? spec.model.defaultWindow.to,
    initiatedBy: r.initiatedBy,
    approvalTimeoutMs: r.approvalTimeout,
    reason: r.reason,
    trainingHeartbeatTimeoutMs: r.trainingHeartbeatTimeoutMs,
  };
  if (input.from > input.to) throw new InvalidRequestError(`the window ${input.from}..${input.to} is empty`);
  return client.workflow.start<TrainingPipeline>('trainingPipeline', {
    workflowId: trainingWorkflowId(spec.model.name, r.runId ?? timestampBatchId()),
    taskQueue: r.taskQueue ?? config.TEMPORAL_TASK_QUEUE,
    args: [input],
    typedSearchAttributes: [
      { key: PipelineKind, value: 'training' },
      { key: PipelineStage, value: 'Starting' },
      { key: ModelName, value: spec.model.name },
    ],
    staticSummary: `Train ${spec.model.name} on ${input.from}..${input.to}`,
    staticDetails: `spec ${spec.name}@${spec.version}, started by ${r.initiatedBy}${r.reason ? `: ${r.reason}` : ''}`,
    memo: {
      specVersion: spec.version,
      featureSetVersion: spec.featureSet?.version,
      initiatedBy: r.initiatedBy,
      // The run carries its SLA: `mlpipe status` judges compliance from Temporal's record of it alone.
      ...(spec.model.sla ? { slaHours: spec.model.sla.completeWithinHours } : {}),
    },
  });
}

/** Training runs waiting for a reviewer: a visibility query on the search attributes. */
export async function pendingApprovals(
  client: Client,
  modelName?: string,
): Promise<{ workflowId: string; runId: string; modelName?: string; startTime: Date }[]> {
  const query = `PipelineKind = 'training' AND PipelineStage = 'AwaitingApproval' AND ExecutionStatus = 'Running'${modelName ? ` AND ModelName = '${modelName.replace(/'/g, '')}'` : ''}`;
  const found = [];
  for await (const execution of client.workflow.list({ query })) {
    found.push({
      workflowId: execution.workflowId,
      runId: execution.runId,
      modelName: execution.typedSearchAttributes.get(ModelName),
      startTime: execution.startTime,
    });
  }
  return found;
}

export function approvalView(client: Client, workflowId: string): Promise<ApprovalView> {
  return client.workflow.getHandle(workflowId).query(approvalQuery);
}

export const DecideSchema = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('approve'), reviewer: PersonSchema, comment: z.string().max(2000).optional() }),
  z.object({
    decision: z.literal('reject'),
    reviewer: PersonSchema,
    reason: z.string().trim().min(1, 'a rejection needs a reason').max(2000),
  }),
]);

/** A reviewer's decision through the `decide` Update: the answer is the decision, or the refusal as an error. */
export async function decide(
  client: Client,
  workflowId: string,
  request: z.input<typeof DecideSchema>,
): Promise<ApprovalDecision> {
  const r = parseRequest(DecideSchema, request);
  return client.workflow.getHandle(workflowId).executeUpdate(decideUpdate, { args: [r] });
}

export const RollbackSchema = z.object({
  spec: z.string().min(1),
  toVersion: z.coerce.number().int().positive(),
  requestedBy: PersonSchema,
  reason: z.string().trim().min(1, 'say why').max(2000),
  taskQueue: z.string().min(1).optional(),
});

export async function startRollback(
  client: Client,
  config: Config,
  request: z.input<typeof RollbackSchema>,
): Promise<WorkflowHandleWithFirstExecutionRunId<ModelRollback>> {
  const r = parseRequest(RollbackSchema, request);
  const spec = modelSpecOf(r.spec);
  return client.workflow.start<ModelRollback>('modelRollback', {
    workflowId: `rollback/${spec.model.name}/v${r.toVersion}-${timestampBatchId()}`,
    taskQueue: r.taskQueue ?? config.TEMPORAL_TASK_QUEUE,
    args: [{ spec: spec.name, toVersion: r.toVersion, requestedBy: r.requestedBy, reason: r.reason }],
    typedSearchAttributes: [
      { key: PipelineKind, value: 'rollback' },
      { key: PipelineStage, value: 'Starting' },
      { key: ModelName, value: spec.model.name },
    ],
    staticSummary: `Roll ${spec.model.name} back to v${r.toVersion}`,
    staticDetails: `requested by ${r.requestedBy}: ${r.reason}`,
  });
}
