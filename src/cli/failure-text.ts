import { ApplicationFailure, type WorkflowFailedError } from '@temporalio/client';

/** "DataQualityGateFailed: QualityGates failed: ..." from a failed workflow's result. */
export function describeFailure(error: WorkflowFailedError): string {
  const cause = error.cause;
  if (cause instanceof ApplicationFailure) return `${cause.type ?? 'Error'}: ${cause.message}`;
  return cause?.message ?? error.message;
}
