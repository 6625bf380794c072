import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { progressQuery, type PipelineProgress } from '../../api/progress';
import { connectClient } from '../../temporal/client';
import { workflowUiUrl } from '../../temporal/ui-links';
import { z } from 'zod';
import { action, table, UsageError } from '../output';
import { modelHealth, type ModelHealth } from '../health';
import { openMetadataStore } from '../../store/database';
import { pipelineReliability, type PipelineReliability } from '../pipeline-reliability';

export function registerStatus(program: Command): void {
  const cmd = program
    .command('status [workflowId]')
    .description(
      "without an id: every model's health (production version, feature freshness, last monitoring, alerts, pending approvals, retrainings) and each pipeline's last 7 days (failure rate, time to recover, SLA compliance); with one: a run's status, stage, steps, live progress and Temporal UI link",
    )
    .option('--pipelines', "only each pipeline's last 7 days (with --json: as JSON)")
    .option('--since <iso-time>', 'count the runs started since this time instead of the last 7 days');
  cmd.action(
    action(
      cmd,
      async ({ config, print }, workflowId: string | undefined, opts: { pipelines?: boolean; since?: string }) => {
        const since = opts.since === undefined ? new Date(Date.now() - WEEK_MS) : parseSince(opts.since);
        const client = await connectClient(config);
        try {
          if (!workflowId) {
            const pipelines = await pipelineReliability(client, since);
            const period = opts.since === undefined ? '7 days' : `since ${since.toISOString()}`;
            if (opts.pipelines) return print(formatReliability(pipelines, period), pipelines);
            const store = await openMetadataStore(config.databaseUrl);
            try {
              const health = await modelHealth(client, store, config);
              return print(`${formatHealth(health)}\n\n${formatReliability(pipelines, period)}`, health);
            } finally {
              await store.close();
            }
          }
          const status = await runStatus(client, workflowId);
          const url = workflowUiUrl(config.TEMPORAL_UI_URL, config.TEMPORAL_NAMESPACE, workflowId, status.runId);
          print(formatStatus(workflowId, status, url), { workflowId, ...status, uiUrl: url });
        } finally {
          await client.connection.close();
        }
      },
    ),
  );
}

const WEEK_MS = 7 * 24 * 3_600_000;

function parseSince(value: string): Date {
  const parsed = z.iso.datetime({ offset: true }).safeParse(value);
  if (!parsed.success) throw new UsageError(`--since: expected an ISO time such as 2026-12-01T00:00:00Z, got ${value}`);
  return new Date(parsed.data);
}

function formatReliability(rows: PipelineReliability[], period: string): string {
  if (rows.length === 0) return `pipelines (${period}): no runs`;
  const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(0)}%`);
  return table(
    [`pipeline (${period})`, 'runs', 'running', 'failed', 'failure rate', 'time to recover', 'SLA met'],
    rows.map((r) => [
      r.kind,
      r.runs,
      r.running,
      r.failed,
      pct(r.failureRate),
      r.meanHoursToRecover === null ? '-' : `${r.meanHoursToRecover.toFixed(2)} h (${r.recoveries} recovered)`,
      r.sla ? `${pct(r.sla.compliance)} (${r.sla.met} met, ${r.sla.missed} missed)` : '-',
    ]),
  );
}

function formatHealth(rows: ModelHealth[]): string {
  if (rows.length === 0) return 'no spec declares a model';
  return table(
    ['model', 'production', 'features (lag vs SLA)', 'last monitoring', 'alerts 7d', 'pending approvals', 'retraining'],
    rows.map((h) => [
      `${h.model} (${h.spec})`,
      h.production ? `v${h.production}` : 'none',
      h.features
        ? `${h.features.partition} (${h.features.lagHours === null ? '?' : `${h.features.lagHours.toFixed(1)} h`} / ${h.features.slaHours} h${h.features.fresh === false ? ', STALE' : ''})`
        : 'none published',
      h.lastMonitoring ? `${h.lastMonitoring.workflowId}: ${h.lastMonitoring.summary}` : 'never',
      h.alerts7d,
      h.pendingApprovals.join(', ') || '-',
      h.runningRetrainings.join(', ') || '-',
    ]),
  );
}

interface RunStatus {
  runId: string;
  status: string;
  type: string;
  startTime: string;
  closeTime?: string;
  progress?: PipelineProgress;
  /** The run's memo: spec version, and the report or artifact paths the run recorded. */
  memo: Record<string, unknown>;
  /** Heartbeat details of running activities: the live checkpoint (e.g. chunks done). */
  pending: { activityType: string; attempt: number; checkpoint: unknown; lastFailure?: string }[];
}

async function runStatus(client: Client, workflowId: string): Promise<RunStatus> {
  const handle = client.workflow.getHandle(workflowId);
  const description = await handle.describe();
  const progress = await handle.query(progressQuery).catch(() => undefined);
  const converter = client.options.loadedDataConverter.payloadConverter;
  const pending = (description.raw.pendingActivities ?? []).map((a) => ({
    activityType: a.activityType?.name ?? '?',
    attempt: a.attempt ?? 1,
    checkpoint: a.heartbeatDetails?.payloads?.length
      ? converter.fromPayload(a.heartbeatDetails.payloads[0]!)
      : undefined,
    lastFailure: a.lastFailure?.message ?? undefined,
  }));
  return {
    runId: description.runId,
    status: description.status.name,
    type: description.type,
    startTime: description.startTime.toISOString(),
    closeTime: description.closeTime?.toISOString(),
    progress,
    memo: (description.memo ?? {}) as Record<string, unknown>,
    pending,
  };
}

function formatStatus(workflowId: string, s: RunStatus, url: string): string {
  const lines = [
    `${workflowId} (${s.type}): ${s.status}${s.progress ? `, stage ${s.progress.stage}` : ''}`,
    `started ${s.startTime}${s.closeTime ? `, closed ${s.closeTime}` : ''}`,
  ];
  if (s.progress?.steps.length)
    lines.push(
      '',
      table(
        ['step', 'outcome'],
        s.progress.steps.map((x) => [x.name, x.outcome]),
      ),
    );
  for (const p of s.pending) {
    lines.push(
      '',
      `running ${p.activityType} (attempt ${p.attempt}) checkpoint ${JSON.stringify(p.checkpoint ?? null)}${p.lastFailure ? `; last failure: ${p.lastFailure}` : ''}`,
    );
  }
  const parts = s.progress?.partitions;
  if (parts) {
    lines.push(
      '',
      `partitions: ${parts.total} in all, ${parts.alreadyDone.length} already done, ${parts.done.length} done, ${parts.running.length} running, ${parts.failed.length} failed`,
    );
    if (parts.running.length) lines.push(`running: ${parts.running.join(', ')}`);
    for (const f of parts.failed) lines.push(`failed: ${f.partition}: ${f.reason}`);
  }
  if (s.progress?.error) lines.push('', `error: ${s.progress.error}`);
  const artifacts = Object.entries({
    ...(s.progress?.artifacts ?? {}),
    ...Object.fromEntries(Object.entries(s.memo).filter(([k]) => /Uri$|Path$/.test(k))),
  });
  if (artifacts.length) lines.push('', ...artifacts.map(([k, v]) => `${k}: ${v}`));
  lines.push('', `Temporal UI: ${url}`);
  return lines.join('\n');
}
