import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import {
  CreatedAtSchema,
  MODEL_STAGES,
  PREDICTION_SOURCES,
  TimestampSchema,
  type PredictionLogTable,
  type Tables,
} from './tables';

export const PredictionLogEntrySchema = z.object({
  /** Shared by the rows of one request. */
  requestId: z.string().min(1).max(200),
  modelName: z.string().min(1),
  modelVersion: z.number().int().positive(),
  /** The version's stage when it answered (a version asked for by number may be in any stage). */
  stage: z.enum(MODEL_STAGES),
  featureSet: z.string().min(1),
  featureSetVersion: z.string().min(1),
  /** The row's event time: the axis monitoring windows are cut on. */
  eventTime: TimestampSchema,
  entityKeys: z.record(z.string(), z.string().nullable()),
  /** The request row as received (the spec's servingInput columns): monitoring joins labels on it. */
  request: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).default({}),
  /** The transformed model inputs, exactly what was scored (zod numbers are finite). */
  features: z.record(z.string(), z.number()),
  score: z.number().min(0).max(1),
  /** The staged candidate that scored the same row in shadow (the client was answered with `score`). */
  shadow: z.object({ version: z.number().int().positive(), score: z.number().min(0).max(1) }).optional(),
  source: z.enum(PREDICTION_SOURCES),
  createdAt: CreatedAtSchema,
});
export type PredictionLogInput = z.input<typeof PredictionLogEntrySchema>;
export type PredictionLogEntry = z.output<typeof PredictionLogEntrySchema> & { id: number };

export const PredictionLogFilterSchema = z.object({
  modelName: z.string().min(1),
  /** Event time at or after this instant. */
  from: TimestampSchema.optional(),
  /** Event time strictly before this instant, so consecutive windows never share a row. */
  to: TimestampSchema.optional(),
  source: z.enum(PREDICTION_SOURCES).optional(),
});
export type PredictionLogFilter = z.input<typeof PredictionLogFilterSchema>;

const ListSchema = PredictionLogFilterSchema.extend({ limit: z.number().int().positive().optional() });
export type PredictionLogListOptions = z.input<typeof ListSchema>;

/** Rows per INSERT: 15 parameters each stays far below SQLite's and PostgreSQL's parameter limits. */
const INSERT_BATCH = 500;

/** A validated entry as its table row, ready for `write`. */
export type PredictionLogRow = Omit<PredictionLogTable, 'id'>;

/** Validates entries into rows for `write`; throws, naming the problem, on an invalid one. */
export function predictionLogRows(entries: PredictionLogInput[]): PredictionLogRow[] {
  return z.array(PredictionLogEntrySchema).parse(entries).map(toRow);
}

/** The prediction log: what each model version answered, with the inputs it saw. */
export class PredictionLogRepository {
  constructor(private readonly db: Kysely<Tables>) {}

  /** Appends all entries or none (one transaction): a request's predictions are logged together. */
  async append(entries: PredictionLogInput[]): Promise<number> {
    return this.write(predictionLogRows(entries));
  }

  /**
   * Writes rows made by predictionLogRows, all or none (one transaction). The prediction server
   * validates each request's entries itself, then writes those of concurrent requests together.
   */
  async write(rows: PredictionLogRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    await this.db.transaction().execute(async (tx) => {
      for (let start = 0; start < rows.length; start += INSERT_BATCH) {
        await tx
          .insertInto('prediction_log')
          .values(rows.slice(start, start + INSERT_BATCH))
          .execute();
      }
    });
    return rows.length;
  }

  /** In event-time order (then append order). */
  async list(options: PredictionLogListOptions): Promise<PredictionLogEntry[]> {
    const { limit, ...filter } = ListSchema.parse(options);
    let query = this.filtered(filter).selectAll().orderBy('event_time').orderBy('id');
    if (limit !== undefined) query = query.limit(limit);
    return (await query.execute()).map(fromRow);
  }

  async count(filter: PredictionLogFilter): Promise<number> {
    const { n } = await this.filtered(PredictionLogFilterSchema.parse(filter))
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    return Number(n);
  }

  /** Served by the (model_name, event_time) index. */
  private filtered(f: z.output<typeof PredictionLogFilterSchema>) {
    let query = this.db.selectFrom('prediction_log').where('model_name', '=', f.modelName);
    if (f.from !== undefined) query = query.where('event_time', '>=', f.from);
    if (f.to !== undefined) query = query.where('event_time', '<', f.to);
    if (f.source !== undefined) query = query.where('source', '=', f.source);
    return query;
  }
}

function toRow(e: z.output<typeof PredictionLogEntrySchema>): PredictionLogRow {
  return {
    request_id: e.requestId,
    model_name: e.modelName,
    model_version: e.modelVersion,
    stage: e.stage,
    feature_set: e.featureSet,
    feature_set_version: e.featureSetVersion,
    event_time: e.eventTime,
    entity_keys_json: JSON.stringify(e.entityKeys),
    request_json: JSON.stringify(e.request),
    features_json: JSON.stringify(e.features),
    score: e.score,
    shadow_version: e.shadow?.version ?? null,
    shadow_score: e.shadow?.score ?? null,
    source: e.source,
    created_at: e.createdAt,
  };
}

function fromRow(row: Selectable<PredictionLogTable>): PredictionLogEntry {
  return {
    id: Number(row.id),
    requestId: row.request_id,
    modelName: row.model_name,
    modelVersion: Number(row.model_version),
    stage: row.stage,
    featureSet: row.feature_set,
    featureSetVersion: row.feature_set_version,
    eventTime: row.event_time,
    entityKeys: JSON.parse(row.entity_keys_json) as PredictionLogEntry['entityKeys'],
    request: JSON.parse(row.request_json) as PredictionLogEntry['request'],
    features: JSON.parse(row.features_json) as PredictionLogEntry['features'],
    score: Number(row.score),
    ...(row.shadow_version !== null && row.shadow_score !== null
      ? { shadow: { version: Number(row.shadow_version), score: Number(row.shadow_score) } }
      : {}),
    source: row.source,
    createdAt: row.created_at,
  };
}
