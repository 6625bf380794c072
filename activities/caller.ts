import { Context } from '@temporalio/activity';

/** The workflow run that scheduled the current activity (every activity here is workflow-scheduled). */
export function callerRun(): { workflowId: string; runId: string } {
  const execution = Context.current().info.workflowExecution;
  if (!execution) throw new Error('this activity must be scheduled by a workflow');
  return { workflowId: execution.workflowId, runId: execution.runId };
}
