import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import { CountSchema, CreatedAtSchema, RUN_STATUSES, type RunStatsTable, type Tables } from './tables';

export const RunStatSchema = z.object({
  /** What the run measured, e.g. a contract name; volume history is per subject. */
  subject: z.string().min(1),
  batchId: z.string().min(1),
  pipelineKind: z.string().min(1),
  workflowId: z.string().min(1),
  runId: z.string().min(1),
  rowsRead: CountSchema,
  rowsAccepted: CountSchema,
  rowsRejected: CountSchema,
  /** Rows the source claims to hold, when it says (e.g. a manifest); null if unknown. */
  sourceRows: CountSchema.nullable().default(null),
  /** Null for failed runs, which publish nothing. */
  outputUri: z.string().min(1).nullable().default(null),
  outputHash: z.string().min(1).nullable().default(null),
  status: z.enum(RUN_STATUSES),
  createdAt: CreatedAtSchema,
});
export type RunStatInput = z.input<typeof RunStatSchema>;
export type RunStat = z.output<typeof RunStatSchema>;

/** Per-batch outcome of pipeline runs; the history the volume gate compares a new batch against. */
export class RunStatsRepository {
  constructor(private readonly db: Kysely<Tables>) {}

  /** Upsert: re-running a batch replaces its row, so history holds one outcome per batch. */
  async record(input: RunStatInput): Promise<RunStat> {
    const stat = RunStatSchema.parse(input);
    await this.db
      .insertInto('run_stats')
      .values(toRow(stat))
      .onConflict((oc) =>
        oc.columns(['subject', 'batch_id']).doUpdateSet((eb) => ({
          pipeline_kind: eb.ref('excluded.pipeline_kind'),
          workflow_id: eb.ref('excluded.workflow_id'),
          run_id: eb.ref('excluded.run_id'),
          rows_read: eb.ref('excluded.rows_read'),
          rows_accepted: eb.ref('excluded.rows_accepted'),
          rows_rejected: eb.ref('excluded.rows_rejected'),
          source_rows: eb.ref('excluded.source_rows'),
          output_uri: eb.ref('excluded.output_uri'),
          output_hash: eb.ref('excluded.output_hash'),
          status: eb.ref('excluded.status'),
          created_at: eb.ref('excluded.created_at'),
        })),
      )
      .execute();
    return stat;
  }

  /**
   * The last `lookback` published runs of `subject`, newest first. The batch being judged is excluded
   * so a retry of it is never compared against its own earlier attempt.
   */
  async trailingPublished(subject: string, lookback: number, excludeBatchId: string): Promise<RunStat[]> {
    const limit = z.number().int().positive().parse(lookback);
    const rows = await this.publishedNewestFirst(subject, excludeBatchId).selectAll().limit(limit).execute();
    return rows.map(fromRow);
  }

  /** The published runs of `subject` among `batchIds` (those never published are absent), newest first. */
  async publishedBatches(subject: string, batchIds: readonly string[]): Promise<RunStat[]> {
    if (batchIds.length === 0) return [];
    const rows = await this.publishedNewestFirst(subject, undefined)
      .where('batch_id', 'in', [...batchIds])
      .selectAll()
      .execute();
    return rows.map(fromRow);
  }

  /**
   * The smallest and largest published batch ids of `subject`: for a daily dataset, the day its feed
   * began and its newest day (whatever order the nights arrived in).
   */
  async publishedBatchIdBounds(subject: string): Promise<{ first: string; last: string } | undefined> {
    const row = await this.db
      .selectFrom('run_stats')
      .select((eb) => [eb.fn.min('batch_id').as('first'), eb.fn.max('batch_id').as('last')])
      .where('subject', '=', subject)
      .where('status', '=', 'published')
      .executeTakeFirst();
    return row?.first && row.last ? { first: row.first, last: row.last } : undefined;
  }

  async latestPublished(subject: string, excludeBatchId?: string): Promise<RunStat | undefined> {
    const row = await this.publishedNewestFirst(subject, excludeBatchId).selectAll().limit(1).executeTakeFirst();
    return row && fromRow(row);
  }

  private publishedNewestFirst(subject: string, excludeBatchId: string | undefined) {
    let query = this.db
      .selectFrom('run_stats')
      .where('subject', '=', subject)
      .where('status', '=', 'published')
      // batch_id breaks ties between runs recorded in the same millisecond, deterministically.
      .orderBy('created_at', 'desc')
      .orderBy('batch_id', 'desc');
    if (excludeBatchId !== undefined) query = query.where('batch_id', '<>', excludeBatchId);
    return query;
  }
}

function toRow(stat: RunStat): RunStatsTable {
  return {
    subject: stat.subject,
    batch_id: stat.batchId,
    pipeline_kind: stat.pipelineKind,
    workflow_id: stat.workflowId,
    run_id: stat.runId,
    rows_read: stat.rowsRead,
    rows_accepted: stat.rowsAccepted,
    rows_rejected: stat.rowsRejected,
    source_rows: stat.sourceRows,
    output_uri: stat.outputUri,
    output_hash: stat.outputHash,
    status: stat.status,
    created_at: stat.createdAt,
  };
}

function fromRow(row: Selectable<RunStatsTable>): RunStat {
  return {
    subject: row.subject,
    batchId: row.batch_id,
    pipelineKind: row.pipeline_kind,
    workflowId: row.workflow_id,
    runId: row.run_id,
    rowsRead: row.rows_read,
    rowsAccepted: row.rows_accepted,
    rowsRejected: row.rows_rejected,
    sourceRows: row.source_rows,
    outputUri: row.output_uri,
    outputHash: row.output_hash,
    status: row.status,
    createdAt: row.created_at,
  };
}
