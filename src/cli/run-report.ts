import { WorkflowFailedError } from '@temporalio/client';
import { workflowUiUrl } from '../temporal/ui-links';
import { describeFailure } from './failure-text';
import type { CommandContext } from './output';

/** Prints the started run, and with --wait its outcome; a failure becomes one line and exit 1. */
export async function reportRun<R>(
  ctx: CommandContext,
  workflowId: string,
  runId: string,
  wait: boolean,
  result: () => Promise<R>,
  describe: (r: R) => string,
): Promise<void> {
  const url = workflowUiUrl(ctx.config.TEMPORAL_UI_URL, ctx.config.TEMPORAL_NAMESPACE, workflowId, runId);
  if (!wait) return ctx.print(`started ${workflowId}\nTemporal UI: ${url}`, { workflowId, uiUrl: url });
  console.error(`started ${workflowId}, waiting (Temporal UI: ${url})`);
  try {
    const r = await result();
    ctx.print(`${workflowId}: ${describe(r)}\nTemporal UI: ${url}`, { workflowId, uiUrl: url, ...r });
  } catch (error) {
    if (error instanceof WorkflowFailedError)
      throw new Error(`${workflowId} failed: ${describeFailure(error)} (${url})`);
    throw error;
  }
}
