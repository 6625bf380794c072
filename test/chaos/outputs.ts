import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ArtifactStore } from '../../src/data/artifact-store';
import { openMetadataStore } from '../../src/store/database';
import { stepKey } from '../../activities/step-files';
import { FEATURE_SET, MODEL, type PipelineRun } from './pipelines';

/** What a finished run produced, in a form two runs can be compared by. */
export interface RunOutputs {
  ingestion: { outputHash: string; rowsRead: number; rowsAccepted: number; rowsRejected: number; sourceRows: number };
  /** partition -> rows and offline output hash (feature_partitions). */
  partitions: Record<string, { rows: number; hash: string | null; status: string }>;
  online: { rows: number; duplicateKeys: number; hash: string };
  model: { weights: number[]; intercept: number; trainingDataHash: string };
  registry: { versions: number; versionsOfThisRun: number };
  alerts: { total: number; duplicateKeys: number; byCode: Record<string, number> };
}

export async function collectOutputs(
  observer: ArtifactStore,
  databaseUrl: string,
  run: PipelineRun,
): Promise<RunOutputs> {
  const store = await openMetadataStore(databaseUrl);
  try {
    const [name, version] = FEATURE_SET.split('@') as [string, string];
    const partitionRows = await store.db
      .selectFrom('feature_partitions')
      .selectAll()
      .where('feature_set', '=', name)
      .where('version', '=', version)
      .orderBy('partition')
      .execute();
    const onlineRows = await store.db
      .selectFrom('online_features')
      .select(['feature_set', 'version', 'entity_type', 'entity_key', 'values_json', 'valid_from'])
      .orderBy('feature_set')
      .orderBy('version')
      .orderBy('entity_type')
      .orderBy('entity_key')
      .execute();
    const onlineKeys = new Set(
      onlineRows.map((r) => JSON.stringify([r.feature_set, r.version, r.entity_type, r.entity_key])),
    );
    const versions = await store.db
      .selectFrom('model_versions')
      .select(['version', 'workflow_id'])
      .where('model_name', '=', MODEL)
      .execute();
    const alerts = await store.db.selectFrom('alerts').select(['dedupe_key', 'code']).execute();
    const byCode: Record<string, number> = {};
    for (const a of alerts) byCode[a.code] = (byCode[a.code] ?? 0) + 1;
    const trained = stepKey(
      { kind: 'models', name: MODEL },
      { workflowId: run.trainingWorkflowId, runId: run.trainingRunId },
      'train',
    );
    const modelFile = path.join(await observer.openKey(trained), 'model.json');
    const model = JSON.parse(fs.readFileSync(modelFile, 'utf8')) as RunOutputs['model'];
    const { outputHash, rowsRead, rowsAccepted, rowsRejected, sourceRows } = run.ingestion;
    return {
      ingestion: { outputHash, rowsRead, rowsAccepted, rowsRejected, sourceRows },
      partitions: Object.fromEntries(
        partitionRows.map((p) => [p.partition, { rows: p.rows, hash: p.output_hash, status: p.status }]),
      ),
      online: {
        rows: onlineRows.length,
        duplicateKeys: onlineRows.length - onlineKeys.size,
        hash: crypto.createHash('sha256').update(JSON.stringify(onlineRows)).digest('hex'),
      },
      model: { weights: model.weights, intercept: model.intercept, trainingDataHash: model.trainingDataHash },
      registry: {
        versions: versions.length,
        versionsOfThisRun: versions.filter((v) => v.workflow_id === run.trainingWorkflowId).length,
      },
      alerts: {
        total: alerts.length,
        duplicateKeys: alerts.length - new Set(alerts.map((a) => a.dedupe_key)).size,
        byCode,
      },
    };
  } finally {
    await store.close();
  }
}
