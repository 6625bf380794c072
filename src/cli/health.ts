import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { artifactStoreFor } from '../data/open-artifact-store';
import { datasetFiles } from '../data/dataset-files';
import { openDuckDb, queryRows, sqlFileList, sqlIdent, withConnection } from '../data/duckdb';
import { addDays } from '../features/partition-dates';
import { loadSpec, specNames } from '../specs';
import type { MetadataStore } from '../store/database';
import { runningRetrainingsQuery, type MonitoringResult } from '../api/monitoring';

/** One line of `mlpipe status`: a model and everything that feeds or watches it. */
export interface ModelHealth {
  spec: string;
  model: string;
  production?: number;
  /** Newest published feature partition, and how far its online values lag the newest ingested event. */
  features?: { partition: string; lagHours: number | null; slaHours: number; fresh: boolean | null };
  lastMonitoring?: { workflowId: string; status: string; summary: string };
  alerts7d: number;
  pendingApprovals: string[];
  runningRetrainings: string[];
}

const HOUR_MS = 3_600_000;

/** Health at a glance: every spec with a model, from the registry, the feature metadata, the alerts and Temporal visibility. */
export async function modelHealth(client: Client, store: MetadataStore, config: Config): Promise<ModelHealth[]> {
  const artifacts = artifactStoreFor(config);
  const since = new Date(Date.now() - 7 * 24 * HOUR_MS).toISOString();
  const recentAlerts = await store.alerts.listRecent({ limit: 1000, since });
  const out: ModelHealth[] = [];
  for (const name of specNames()) {
    const spec = loadSpec(name);
    if (!spec.model || !spec.featureSet) continue;
    const model = spec.model.name;
    const fs = spec.featureSet;
    const production = await store.models.production(model);
    const newest = await store.features.previousPublished(fs.name, fs.version, '9999-12-31');
    const slaHours = Math.min(...fs.features.map((f) => f.serving?.maxStalenessHours ?? 48));
    let features: ModelHealth['features'];
    if (newest) {
      // The data's newest day: a snapshot's newest batch, or a daily dataset's newest night.
      const newestDay = (await store.runStats.publishedBatchIdBounds(spec.contract.name))?.last ?? newest.partition;
      const files = await datasetFiles({ artifacts, store }, spec, { from: newestDay, to: newestDay });
      const newestEvent = files.length ? await newestEventTime(files, spec.contract.eventTime) : null;
      // The online values of partition D are valid from D+1: their age at the data's newest event.
      const lagHours =
        newestEvent === null
          ? null
          : Math.max(0, (newestEvent - Date.parse(`${addDays(newest.partition, 1)}T00:00:00Z`)) / HOUR_MS);
      features = {
        partition: newest.partition,
        lagHours,
        slaHours,
        fresh: lagHours === null ? null : lagHours <= slaHours,
      };
    }
    out.push({
      spec: name,
      model,
      ...(production ? { production: production.version } : {}),
      ...(features ? { features } : {}),
      ...(await lastMonitoring(client, model)),
      alerts7d: recentAlerts.filter(
        (a) => a.subject.startsWith(`${model}`) || a.subject.startsWith(`${name} `) || a.subject.startsWith(`${name}/`),
      ).length,
      pendingApprovals: await ids(
        client,
        `PipelineKind = 'training' AND ModelName = '${model}' AND PipelineStage = 'AwaitingApproval' AND ExecutionStatus = 'Running'`,
      ),
      runningRetrainings: await ids(client, runningRetrainingsQuery(model)),
    });
  }
  return out;
}

async function ids(client: Client, query: string): Promise<string[]> {
  const found: string[] = [];
  for await (const execution of client.workflow.list({ query })) found.push(execution.workflowId);
  return found;
}

async function lastMonitoring(client: Client, model: string): Promise<Pick<ModelHealth, 'lastMonitoring'>> {
  for await (const execution of client.workflow.list({
    query: `PipelineKind = 'monitoring' AND ModelName = '${model}'`,
  })) {
    // Visibility lists newest first.
    const status = execution.status.name;
    let summary = status.toLowerCase();
    if (status === 'COMPLETED') {
      const r = (await client.workflow.getHandle(execution.workflowId, execution.runId).result()) as MonitoringResult;
      summary = `${r.driftedFeatures.length ? `drift in ${r.driftedFeatures.join(', ')}` : 'no drift'}${r.degraded ? ', degraded' : ''}${r.degradedSegments?.length ? `, degraded on ${r.degradedSegments.join(', ')}` : ''}; ${r.retraining.started ? `retraining ${r.retraining.workflowId}` : 'no retraining'}`;
    }
    return { lastMonitoring: { workflowId: execution.workflowId, status, summary } };
  }
  return {};
}

async function newestEventTime(files: string[], eventTime: string): Promise<number | null> {
  const db = await openDuckDb();
  try {
    const [row] = await withConnection(db, (conn) =>
      queryRows<{ t: string | null }>(
        conn,
        `SELECT strftime(max(${sqlIdent(eventTime)}), '%Y-%m-%dT%H:%M:%SZ') AS t FROM read_parquet(${sqlFileList(files)})`,
      ),
    );
    return row?.t ? Date.parse(row.t) : null;
  } finally {
    db.closeSync();
  }
}
