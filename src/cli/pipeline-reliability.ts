import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { PipelineKind } from '../api/search-attributes';

/**
 * How each kind of pipeline ran over a period, from Temporal's own record of every run (visibility:
 * the failed, timed-out and terminated ones too): failure rate, time to recover (from a failed run to
 * the next successful one of the same kind) and, where a spec sets an SLA, its compliance.
 */
export interface PipelineReliability {
  kind: string;
  runs: number;
  running: number;
  failed: number;
  /** failed / closed runs; null with none closed. */
  failureRate: number | null;
  /** Failures followed by a successful run, and the mean hours from the failure to that success. */
  recoveries: number;
  meanHoursToRecover: number | null;
  /** Runs started with an SLA (in their memo): met (closed in time), missed (closed late, or running past it). */
  sla?: { met: number; missed: number; compliance: number | null };
}

const FAILED = new Set(['FAILED', 'TIMED_OUT', 'TERMINATED']);
const HOUR_MS = 3_600_000;

export async function pipelineReliability(
  client: Client,
  since: Date,
  now = new Date(),
): Promise<PipelineReliability[]> {
  const byKind = new Map<string, WorkflowExecutionInfo[]>();
  for await (const run of client.workflow.list({ query: `StartTime > "${since.toISOString()}"` })) {
    const kind = run.typedSearchAttributes.get(PipelineKind);
    if (!kind) continue;
    byKind.set(kind, [...(byKind.get(kind) ?? []), run]);
  }
  return [...byKind.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([kind, runs]) => summarize(kind, runs, now));
}

function summarize(kind: string, runs: WorkflowExecutionInfo[], now: Date): PipelineReliability {
  const closed = runs.filter((r) => r.closeTime).sort((a, b) => a.closeTime!.getTime() - b.closeTime!.getTime());
  const failed = closed.filter((r) => FAILED.has(r.status.name));
  const recoveryHours = failed.flatMap((f) => {
    const next = closed.find((r) => r.status.name === 'COMPLETED' && r.closeTime! > f.closeTime!);
    return next ? [(next.closeTime!.getTime() - f.closeTime!.getTime()) / HOUR_MS] : [];
  });
  let met = 0;
  let missed = 0;
  for (const r of runs) {
    const hours = r.memo?.slaHours;
    if (typeof hours !== 'number') continue;
    const took = ((r.closeTime ?? now).getTime() - r.startTime.getTime()) / HOUR_MS;
    if (took > hours) missed++;
    else if (r.closeTime) met++;
  }
  return {
    kind,
    runs: runs.length,
    running: runs.length - closed.length,
    failed: failed.length,
    failureRate: closed.length ? failed.length / closed.length : null,
    recoveries: recoveryHours.length,
    meanHoursToRecover: recoveryHours.length ? recoveryHours.reduce((a, b) => a + b, 0) / recoveryHours.length : null,
    ...(met + missed > 0 ? { sla: { met, missed, compliance: met / (met + missed) } } : {}),
  };
}
