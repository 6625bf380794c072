import type { Client } from '@temporalio/client';

/** Activities that heartbeat with a heartbeat timeout: the server retries them by itself when their worker dies. */
const SELF_RECOVERING = new Set(['ingestSource', 'trainModel']);

/**
 * Releases activities stranded on a dead worker. The feature, quality, publish and most training
 * activities are scheduled with a start-to-close timeout only (15 to 30 minutes) and no heartbeat
 * timeout, so when their worker is SIGKILLed the server waits out the whole timeout before retrying
 * them. This plays the operator's part: it fails such an attempt by id (retryable), and the
 * workflow's retry policy runs it again on the live worker.
 */
export async function releaseStrandedActivities(client: Client, deadPids: Set<number>, log: (line: string) => void): Promise<number> {
  let released = 0;
  for await (const execution of client.workflow.list({ query: `ExecutionStatus = 'Running'` })) {
    const description = await client.workflow.getHandle(execution.workflowId, execution.runId).describe();
    for (const activity of description.raw.pendingActivities ?? []) {
      const pid = Number(String(activity.lastWorkerIdentity ?? '').split('@')[0]);
      const type = activity.activityType?.name ?? '';
      // State 2 is STARTED: a worker holds the attempt.
      if (activity.state !== 2 || !deadPids.has(pid) || SELF_RECOVERING.has(type)) continue;
      try {
        await client.activity.fail({ workflowId: execution.workflowId, runId: execution.runId, activityId: activity.activityId! }, new Error(`worker ${pid} died holding this attempt (released by the chaos run)`));
        released++;
        log(`released ${type} of ${execution.workflowId} (attempt ${activity.attempt}) stranded on dead worker ${pid}`);
      } catch {
        // Completed meanwhile, or already retried: nothing to release.
      }
    }
  }
  return released;
}
