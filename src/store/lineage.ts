import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import { CountSchema, CreatedAtSchema, DetailsSchema, type LineageTable, type Tables } from './tables';

export const LineageEntrySchema = z.object({
  /** What was produced, e.g. 'dataset', 'features', 'model'. */
  kind: z.string().min(1),
  outputUri: z.string().min(1),
  sourceUri: z.string().min(1),
  sourceFingerprint: z.string().min(1).nullable().default(null),
  contractName: z.string().min(1).nullable().default(null),
  contractVersion: z.string().min(1).nullable().default(null),
  rowsRead: CountSchema,
  rowsAccepted: CountSchema,
  rowsRejected: CountSchema,
  outputHash: z.string().min(1),
  workflowId: z.string().min(1),
  runId: z.string().min(1),
  createdAt: CreatedAtSchema,
  details: DetailsSchema,
});
export type LineageEntryInput = z.input<typeof LineageEntrySchema>;
export type LineageEntry = z.output<typeof LineageEntrySchema>;

/** Where each published output came from; one entry per output URI, the latest write wins. */
export class LineageRepository {
  constructor(private readonly db: Kysely<Tables>) {}

  /** Upsert by output URI: republishing an output replaces its provenance. */
  async record(input: LineageEntryInput): Promise<LineageEntry> {
    const entry = LineageEntrySchema.parse(input);
    await this.db
      .insertInto('lineage')
      .values(toRow(entry))
      .onConflict((oc) =>
        oc.column('output_uri').doUpdateSet((eb) => ({
          kind: eb.ref('excluded.kind'),
          source_uri: eb.ref('excluded.source_uri'),
          source_fingerprint: eb.ref('excluded.source_fingerprint'),
          contract_name: eb.ref('excluded.contract_name'),
          contract_version: eb.ref('excluded.contract_version'),
          rows_read: eb.ref('excluded.rows_read'),
          rows_accepted: eb.ref('excluded.rows_accepted'),
          rows_rejected: eb.ref('excluded.rows_rejected'),
          output_hash: eb.ref('excluded.output_hash'),
          workflow_id: eb.ref('excluded.workflow_id'),
          run_id: eb.ref('excluded.run_id'),
          created_at: eb.ref('excluded.created_at'),
          details: eb.ref('excluded.details'),
        })),
      )
      .execute();
    return entry;
  }

  async get(outputUri: string): Promise<LineageEntry | undefined> {
    const row = await this.db.selectFrom('lineage').selectAll().where('output_uri', '=', outputUri).executeTakeFirst();
    return row && fromRow(row);
  }

  /** The `limit` most recently recorded entries, newest first. */
  async list(limit: number): Promise<LineageEntry[]> {
    const rows = await this.db
      .selectFrom('lineage')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('output_uri', 'asc')
      .limit(z.number().int().positive().parse(limit))
      .execute();
    return rows.map(fromRow);
  }
}

function toRow(entry: LineageEntry): LineageTable {
  return {
    output_uri: entry.outputUri,
    kind: entry.kind,
    source_uri: entry.sourceUri,
    source_fingerprint: entry.sourceFingerprint,
    contract_name: entry.contractName,
    contract_version: entry.contractVersion,
    rows_read: entry.rowsRead,
    rows_accepted: entry.rowsAccepted,
    rows_rejected: entry.rowsRejected,
    output_hash: entry.outputHash,
    workflow_id: entry.workflowId,
    run_id: entry.runId,
    created_at: entry.createdAt,
    details: JSON.stringify(entry.details),
  };
}

function fromRow(row: Selectable<LineageTable>): LineageEntry {
  return {
    kind: row.kind,
    outputUri: row.output_uri,
    sourceUri: row.source_uri,
    sourceFingerprint: row.source_fingerprint,
    contractName: row.contract_name,
    contractVersion: row.contract_version,
    rowsRead: row.rows_read,
    rowsAccepted: row.rows_accepted,
    rowsRejected: row.rows_rejected,
    outputHash: row.output_hash,
    workflowId: row.workflow_id,
    runId: row.run_id,
    createdAt: row.created_at,
    details: JSON.parse(row.details) as LineageEntry['details'],
  };
}
