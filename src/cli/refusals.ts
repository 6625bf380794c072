import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { InvalidRequestError } from '../client/request';
import { UsageError } from './output';

/** A request the client refused before Temporal saw it is a usage error (exit 2). */
export const usage = (e: unknown) => (e instanceof InvalidRequestError ? new UsageError(e.message) : e);

/**
 * The refusal a workflow's Update validator gave, as one line; a closed or unknown run cannot answer,
 * so the server's bare "workflow execution already completed" gets the run's id and what it means.
 */
export const refused = (workflowId: string, e: unknown) => {
  if (e instanceof WorkflowUpdateFailedError)
    return new Error(`refused: ${(e.cause as Error | undefined)?.message ?? e.message}`);
  if (e instanceof WorkflowNotFoundError) return new Error(`${workflowId} is not waiting for a decision: ${e.message}`);
  return e;
};
