import type { Client } from '@temporalio/client';
import { throughOutages } from './retry';

/** Every workflow of a namespace, by status, and the work their histories show was done again. */
export interface HistoryStats {
  workflows: number;
  completed: number;
  notCompleted: string[];
  /** Activities that needed more than one attempt, and the extra attempts they took. */
  activitiesRetried: number;
  extraActivityAttempts: number;
  /** Retried activities by type (extra attempts). */
  retriedByType: Record<string, number>;
  /** Workflow tasks that timed out or failed (a worker died holding one) and ran again. */
  workflowTasksRedone: number;
}

export async function historyStats(client: Client): Promise<HistoryStats> {
  const executions = await throughOutages('list workflows', async () => {
    const found: { workflowId: string; runId: string }[] = [];
    for await (const e of client.workflow.list()) found.push({ workflowId: e.workflowId, runId: e.runId });
    return found;
  });
  const stats: HistoryStats = {
    workflows: executions.length,
    completed: 0,
    notCompleted: [],
    activitiesRetried: 0,
    extraActivityAttempts: 0,
    retriedByType: {},
    workflowTasksRedone: 0,
  };
  for (const e of executions) {
    const handle = client.workflow.getHandle(e.workflowId, e.runId);
    // The status from the run itself: visibility, which listed it, may not show its close yet.
    const status = (await throughOutages('describe workflow', () => handle.describe())).status.name;
    if (status === 'COMPLETED') stats.completed++;
    else stats.notCompleted.push(`${e.workflowId} ${status}`);
    const history = await throughOutages('fetch history', () => handle.fetchHistory());
    const scheduled = new Map<string, string>();
    for (const event of history.events ?? []) {
      const id = String(event.eventId);
      const type = event.activityTaskScheduledEventAttributes?.activityType?.name;
      if (type) scheduled.set(id, type);
      const started = event.activityTaskStartedEventAttributes;
      if (started && (started.attempt ?? 1) > 1) {
        const extra = (started.attempt ?? 1) - 1;
        const name = scheduled.get(String(started.scheduledEventId)) ?? 'unknown';
        stats.activitiesRetried++;
        stats.extraActivityAttempts += extra;
        stats.retriedByType[name] = (stats.retriedByType[name] ?? 0) + extra;
      }
      if (event.workflowTaskTimedOutEventAttributes || event.workflowTaskFailedEventAttributes)
        stats.workflowTasksRedone++;
    }
  }
  return stats;
}
