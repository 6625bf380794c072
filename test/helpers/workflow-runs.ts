/**
 * What the server's visibility store says about a set of runs, for the backfill load test and
 * benchmark. Kept free of the Temporal worker's modules: the benchmark's parent process imports it.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';

/**
 * Every run matching a visibility query, once none of them shows as Running. Visibility is written
 * after the history, so a run whose result a client already has may still show as Running for a moment.
 */
export async function closedRuns(client: Client, query: string, timeoutMs = 30_000): Promise<WorkflowExecutionInfo[]> {
  const deadline = Date.now() + timeoutMs;
  while ((await client.workflow.count(`(${query}) AND ExecutionStatus = 'Running'`)).count > 0) {
    if (Date.now() > deadline) throw new Error(`runs matching ${query} still show as Running after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const runs: WorkflowExecutionInfo[] = [];
  for await (const run of client.workflow.list({ query })) runs.push(run);
  return runs;
}

/** The most intervals open at one instant; one ending at t is closed before one starting at t opens. */
export function maxOverlap(intervals: { start: number; end: number }[]): number {
  const edges = intervals.flatMap((i) => [
    { t: i.start, d: 1 },
    { t: i.end, d: -1 },
  ]);
  edges.sort((a, b) => a.t - b.t || a.d - b.d);
  let open = 0;
  let max = 0;
  for (const e of edges) max = Math.max(max, (open += e.d));
  return max;
}

/** A closed run's server start and close times, ms. */
export const runInterval = (run: WorkflowExecutionInfo) => ({
  start: run.startTime.getTime(),
  end: run.closeTime!.getTime(),
});
