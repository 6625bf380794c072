import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import * as z from 'zod/mini';
import type { Activities } from '../activities';
import { NON_RETRYABLE_ERROR_TYPES } from './errors';
import { PipelineRun } from './pipeline-run';
import { parseWorkflowInput } from './parse-input';
import { ModelName } from './search-attributes';

const RollbackInputSchema = z.object({
  spec: z.string().check(z.minLength(1), z.maxLength(100)),
  toVersion: z.number().check(z.int(), z.positive()),
  requestedBy: z.string().check(z.regex(/^[A-Za-z0-9._@-]{1,100}$/)),
  reason: z.string().check(z.minLength(1), z.maxLength(2000)),
});
export type RollbackInput = z.infer<typeof RollbackInputSchema>;

const { rollbackModel } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

/**
 * Puts an earlier version back into production, archiving the current one: the same registry
 * transaction as a promotion, recorded as a rollback with who and why. A workflow, so it shows in
 * the UI next to the training runs and survives a crashed client.
 */
export async function modelRollback(rawInput: RollbackInput): Promise<{ modelName: string; version: number; previous?: number }> {
  const input = parseWorkflowInput(RollbackInputSchema, rawInput, 'rollback input');
  const run = new PipelineRun('rollback', `${input.spec} -> v${input.toVersion}`);
  const result = await run.step('RollingBack', `v${input.toVersion} back to production, requested by ${input.requestedBy}`, () => rollbackModel.executeWithOptions({ summary: `rollback ${input.spec} to v${input.toVersion}` }, [input]), (r) => `${r.modelName} v${r.version} in production${r.previous ? `, v${r.previous} archived` : ''}`);
  upsertSearchAttributes([{ key: ModelName, value: result.modelName }]);
  run.complete(`${result.modelName} v${result.version} restored by ${input.requestedBy}`);
  return result;
}
