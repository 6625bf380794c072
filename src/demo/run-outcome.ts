import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { PipelineStage } from '../api/search-attributes';
import { describeFailure } from '../cli/failure-text';

/** Where a training run stands once it is waiting for a reviewer or has ended: what the demo reports. */
export type TrainingRunOutcome =
  | { state: 'awaiting approval' }
  | { state: 'completed' }
  /** The reason names the step, e.g. "QualityGateFailed: Comparing failed: ...". */
  | { state: 'failed'; reason: string }
  | { state: 'ended'; status: string };

/**
 * Polls the run until it reaches the human gate or closes; never assumes which of the two happens.
 * Reads the stage from the run's search attribute (describe), not a query, so it needs no worker.
 */
export async function untilApprovalOrEnd(handle: WorkflowHandle): Promise<TrainingRunOutcome> {
  for (;;) {
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING') return closedOutcome(handle, description.status.name);
    if (description.typedSearchAttributes.get(PipelineStage) === 'AwaitingApproval')
      return { state: 'awaiting approval' };
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function closedOutcome(handle: WorkflowHandle, status: string): Promise<TrainingRunOutcome> {
  if (status === 'COMPLETED') return { state: 'completed' };
  if (status !== 'FAILED') return { state: 'ended', status };
  try {
    await handle.result();
    return { state: 'completed' };
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    return { state: 'failed', reason: describeFailure(error) };
  }
}

/** One line for the outcome, e.g. "failed: QualityGateFailed: Comparing failed: ...". */
export function outcomeText(outcome: TrainingRunOutcome): string {
  switch (outcome.state) {
    case 'awaiting approval':
      return 'waiting for a reviewer (mlpipe pending lists it)';
    case 'completed':
      return 'completed';
    case 'failed':
      return `failed: ${outcome.reason}`;
    case 'ended':
      return `ended ${outcome.status.toLowerCase()}`;
  }
}
