import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import { MODEL_STAGES, type ModelStage, type ModelVersionsTable, type Tables } from './tables';

export const RegisterModelSchema = z.object({
  modelName: z.string().min(1),
  /** Identifies the registering run (e.g. its workflow id): a retried registration returns the same version. */
  registrationKey: z.string().min(1),
  /** Where the artifact lives; a `{version}` in it is replaced by the version number assigned. */
  artifactUri: z.string().min(1),
  metrics: z.record(z.string(), z.unknown()),
  /** Feature-set version, spec version, code version, training-data hash, window, retraining reason. */
  lineage: z.record(z.string(), z.unknown()),
  workflowId: z.string().min(1),
  runId: z.string().min(1),
});
export type RegisterModelInput = z.input<typeof RegisterModelSchema>;

export const DecisionSchema = z.object({
  /** One decision per key: a retried activity or a duplicate signal records it once. */
  dedupeKey: z.string().min(1),
  modelName: z.string().min(1),
  version: z.number().int().positive(),
  decision: z.enum(['approve', 'reject', 'timeout', 'promote', 'rollback', 'archive']),
  actor: z.string().min(1),
  reason: z.string(),
  workflowId: z.string().min(1),
});
export type DecisionInput = z.input<typeof DecisionSchema>;

export interface ModelVersion {
  modelName: string;
  version: number;
  stage: ModelStage;
  artifactUri: string;
  metrics: Record<string, unknown>;
  lineage: Record<string, unknown>;
  workflowId: string;
  runId: string;
  createdAt: string;
  updatedAt: string;
}

export interface Decision {
  modelName: string;
  version: number;
  decision: string;
  actor: string;
  reason: string;
  workflowId: string;
  createdAt: string;
}

/** The model registry: numbered versions per model, their stage, and every decision about them. */
export class ModelRegistryRepository {
  constructor(private readonly db: Kysely<Tables>) {}

  /** Registers a candidate as the model's next version; the same registration key returns the same version. */
  async register(input: RegisterModelInput): Promise<{ version: number; created: boolean }> {
    const r = RegisterModelSchema.parse(input);
    return this.db.transaction().execute(async (tx) => {
      const existing = await tx
        .selectFrom('model_versions')
        .select('version')
        .where('model_name', '=', r.modelName)
        .where('registration_key', '=', r.registrationKey)
        .executeTakeFirst();
      if (existing) return { version: Number(existing.version), created: false };
      const last = await tx
        .selectFrom('model_versions')
        .select((eb) => eb.fn.max('version').as('v'))
        .where('model_name', '=', r.modelName)
        .executeTakeFirst();
      const version = Number(last?.v ?? 0) + 1;
      const now = new Date().toISOString();
      await tx
        .insertInto('model_versions')
        .values({
          model_name: r.modelName,
          version,
          registration_key: r.registrationKey,
          stage: 'candidate',
          artifact_uri: r.artifactUri.replaceAll('{version}', String(version)),
          metrics_json: JSON.stringify(r.metrics),
          lineage_json: JSON.stringify(r.lineage),
          workflow_id: r.workflowId,
          run_id: r.runId,
          created_at: now,
          updated_at: now,
        })
        .execute();
      return { version, created: true };
    });
  }

  async get(modelName: string, version: number): Promise<ModelVersion | undefined> {
    const row = await this.db
      .selectFrom('model_versions')
      .selectAll()
      .where('model_name', '=', modelName)
      .where('version', '=', version)
      .executeTakeFirst();
    return row && toModel(row);
  }

  /** Newest first; all models when no name is given. */
  async list(modelName?: string): Promise<ModelVersion[]> {
    let query = this.db.selectFrom('model_versions').selectAll().orderBy('model_name').orderBy('version', 'desc');
    if (modelName) query = query.where('model_name', '=', modelName);
    return (await query.execute()).map(toModel);
  }

  async production(modelName: string): Promise<ModelVersion | undefined> {
    const row = await this.db
      .selectFrom('model_versions')
      .selectAll()
      .where('model_name', '=', modelName)
      .where('stage', '=', 'production')
      .executeTakeFirst();
    return row && toModel(row);
  }

  async setStage(modelName: string, version: number, stage: ModelStage): Promise<void> {
    if (!MODEL_STAGES.includes(stage)) throw new Error(`unknown stage ${stage}`);
    const result = await this.db
      .updateTable('model_versions')
      .set({ stage, updated_at: new Date().toISOString() })
      .where('model_name', '=', modelName)
      .where('version', '=', version)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) throw new Error(`model ${modelName} has no version ${version}`);
  }

  /**
   * Makes `version` the one production version, archiving the previous one, and records the decision,
   * all in one transaction: there is never zero or two production versions. Used by promotion and rollback.
   */
  async promote(decision: DecisionInput): Promise<{ previous?: number }> {
    const d = DecisionSchema.parse(decision);
    return this.db.transaction().execute(async (tx) => {
      const target = await tx
        .selectFrom('model_versions')
        .select('stage')
        .where('model_name', '=', d.modelName)
        .where('version', '=', d.version)
        .executeTakeFirst();
      if (!target) throw new Error(`model ${d.modelName} has no version ${d.version}`);
      const previous = await tx
        .selectFrom('model_versions')
        .select('version')
        .where('model_name', '=', d.modelName)
        .where('stage', '=', 'production')
        .executeTakeFirst();
      const now = new Date().toISOString();
      if (previous && Number(previous.version) !== d.version) {
        await tx
          .updateTable('model_versions')
          .set({ stage: 'archived', updated_at: now })
          .where('model_name', '=', d.modelName)
          .where('version', '=', previous.version)
          .execute();
      }
      await tx
        .updateTable('model_versions')
        .set({ stage: 'production', updated_at: now })
        .where('model_name', '=', d.modelName)
        .where('version', '=', d.version)
        .execute();
      await insertDecision(tx, d, now);
      // A retried promotion finds itself in production: there is no previous version to report.
      return { previous: previous && Number(previous.version) !== d.version ? Number(previous.version) : undefined };
    });
  }

  /** Makes `version` the one staging version: an earlier staging version goes back to candidate. */
  async deployToStaging(modelName: string, version: number): Promise<{ displaced: number[] }> {
    return this.db.transaction().execute(async (tx) => {
      const target = await tx
        .selectFrom('model_versions')
        .select('stage')
        .where('model_name', '=', modelName)
        .where('version', '=', version)
        .executeTakeFirst();
      if (!target) throw new Error(`model ${modelName} has no version ${version}`);
      if (target.stage !== 'candidate' && target.stage !== 'staging')
        throw new Error(`model ${modelName} v${version} is ${target.stage}: only a candidate can go to staging`);
      const now = new Date().toISOString();
      const others = await tx
        .selectFrom('model_versions')
        .select('version')
        .where('model_name', '=', modelName)
        .where('stage', '=', 'staging')
        .where('version', '!=', version)
        .execute();
      if (others.length) {
        await tx
          .updateTable('model_versions')
          .set({ stage: 'candidate', updated_at: now })
          .where('model_name', '=', modelName)
          .where('stage', '=', 'staging')
          .where('version', '!=', version)
          .execute();
      }
      await tx
        .updateTable('model_versions')
        .set({ stage: 'staging', updated_at: now })
        .where('model_name', '=', modelName)
        .where('version', '=', version)
        .execute();
      return { displaced: others.map((o) => Number(o.version)) };
    });
  }

  /** The newest version in a stage (there is at most one production and one staging version). */
  async inStage(modelName: string, stage: ModelStage): Promise<ModelVersion | undefined> {
    const row = await this.db
      .selectFrom('model_versions')
      .selectAll()
      .where('model_name', '=', modelName)
      .where('stage', '=', stage)
      .orderBy('version', 'desc')
      .executeTakeFirst();
    return row && toModel(row);
  }

  /** Adds keys to a version's lineage (e.g. the monitoring baseline set at promotion). */
  async extendLineage(modelName: string, version: number, extra: Record<string, unknown>): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const row = await tx
        .selectFrom('model_versions')
        .select('lineage_json')
        .where('model_name', '=', modelName)
        .where('version', '=', version)
        .executeTakeFirst();
      if (!row) throw new Error(`model ${modelName} has no version ${version}`);
      const lineage = { ...(JSON.parse(row.lineage_json) as Record<string, unknown>), ...extra };
      await tx
        .updateTable('model_versions')
        .set({ lineage_json: JSON.stringify(lineage), updated_at: new Date().toISOString() })
        .where('model_name', '=', modelName)
        .where('version', '=', version)
        .execute();
    });
  }

  /** Records a decision once per dedupe key; returns false when it was already recorded. */
  async recordDecision(decision: DecisionInput): Promise<boolean> {
    const d = DecisionSchema.parse(decision);
    return insertDecision(this.db, d, new Date().toISOString());
  }

  /** Oldest first: the story of a version. */
  async decisions(modelName: string, version: number): Promise<Decision[]> {
    const rows = await this.db
      .selectFrom('model_decisions')
      .selectAll()
      .where('model_name', '=', modelName)
      .where('version', '=', version)
      .orderBy('created_at')
      .orderBy('dedupe_key')
      .execute();
    return rows.map((r) => ({
      modelName: r.model_name,
      version: Number(r.version),
      decision: r.decision,
      actor: r.actor,
      reason: r.reason,
      workflowId: r.workflow_id,
      createdAt: r.created_at,
    }));
  }
}

async function insertDecision(db: Kysely<Tables>, d: z.output<typeof DecisionSchema>, now: string): Promise<boolean> {
  const inserted = await db
    .insertInto('model_decisions')
    .values({
      dedupe_key: d.dedupeKey,
      model_name: d.modelName,
      version: d.version,
      decision: d.decision,
      actor: d.actor,
      reason: d.reason,
      workflow_id: d.workflowId,
      created_at: now,
    })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .returning('dedupe_key')
    .executeTakeFirst();
  return inserted !== undefined;
}

function toModel(row: Selectable<ModelVersionsTable>): ModelVersion {
  return {
    modelName: row.model_name,
    version: Number(row.version),
    stage: row.stage,
    artifactUri: row.artifact_uri,
    metrics: JSON.parse(row.metrics_json) as Record<string, unknown>,
    lineage: JSON.parse(row.lineage_json) as Record<string, unknown>,
    workflowId: row.workflow_id,
    runId: row.run_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
