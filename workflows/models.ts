import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE_ERROR_TYPES } from '../src/api/errors';
import { RollbackInputSchema, type RollbackInput, type RollbackResult } from '../src/api/models';
import { ModelName } from '../src/api/search-attributes';
import { PipelineRun } from './pipeline-run';
import { parseWorkflowInput } from './parse-input';

const { rollbackModel } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 10,
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  },
});

/**
 * Puts an earlier version back into production, archiving the current one: the same registry
 * transaction as a promotion, recorded as a rollback with who and why. A workflow, so it shows in
 * the UI next to the training runs and survives a crashed client.
 */
export async function modelRollback(rawInput: RollbackInput): Promise<RollbackResult> {
  const input = parseWorkflowInput(RollbackInputSchema, rawInput, 'rollback input');
  const run = new PipelineRun('rollback', `${input.spec} -> v${input.toVersion}`);
  const result = await run.step(
    'RollingBack',
    `v${input.toVersion} back to production, requested by ${input.requestedBy}`,
    () => rollbackModel.executeWithOptions({ summary: `rollback ${input.spec} to v${input.toVersion}` }, [input]),
    (r) => `${r.modelName} v${r.version} in production${r.previous ? `, v${r.previous} archived` : ''}`,
  );
  upsertSearchAttributes([{ key: ModelName, value: result.modelName }]);
  run.complete(`${result.modelName} v${result.version} restored by ${input.requestedBy}`);
  return result;
}
