import type { Kysely } from 'kysely';
import type { Tables } from './tables';

export interface Delivery {
  spec: string;
  /** sha256 of the file's bytes. */
  fingerprint: string;
  sourceUri: string;
  day: string;
  size: number;
  /** The file's modification time (ISO). */
  modifiedAt: string;
  workflowId: string;
  /** The sensor run claiming it (workflow id and run id). */
  claimedBy: string;
}

/** The files sensors have handed to daily chains (issue #13: a file seen twice is not ingested twice). */
export class DeliveriesRepository {
  constructor(private readonly db: Kysely<Tables>) {}

  /** Which of these (day, fingerprint) pairs were already claimed for `spec`, as `day/fingerprint`. */
  async claimed(spec: string, fingerprints: readonly string[]): Promise<Set<string>> {
    if (fingerprints.length === 0) return new Set();
    const rows = await this.db
      .selectFrom('deliveries')
      .select(['day', 'fingerprint'])
      .where('spec', '=', spec)
      .where('fingerprint', 'in', [...fingerprints])
      .execute();
    return new Set(rows.map((r) => `${r.day}/${r.fingerprint}`));
  }

  /**
   * The claimed deliveries among these files, by file: what a sensor need not hash again when a file
   * still has the size and modification time it was claimed with.
   */
  async claimedFiles(
    spec: string,
    sourceUris: readonly string[],
  ): Promise<Map<string, { size: number; modifiedAt: string }>> {
    if (sourceUris.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('deliveries')
      .select(['source_uri', 'size', 'modified_at'])
      .where('spec', '=', spec)
      .where('source_uri', 'in', [...sourceUris])
      .execute();
    return new Map(rows.map((r) => [r.source_uri, { size: Number(r.size), modifiedAt: r.modified_at }]));
  }

  /**
   * Claims a delivery for a chain; false when the same bytes for the same day were claimed by another
   * sensor run (an earlier look, or another one now): the one insert that wins is the one chain that
   * ingests it. The claimant's own retried claim is still true.
   */
  async claim(delivery: Delivery): Promise<boolean> {
    const result = await this.db
      .insertInto('deliveries')
      .values({
        spec: delivery.spec,
        fingerprint: delivery.fingerprint,
        source_uri: delivery.sourceUri,
        day: delivery.day,
        size: delivery.size,
        modified_at: delivery.modifiedAt,
        workflow_id: delivery.workflowId,
        claimed_by: delivery.claimedBy,
        created_at: new Date().toISOString(),
      })
      .onConflict((oc) => oc.columns(['spec', 'day', 'fingerprint']).doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0) > 0) return true;
    const existing = await this.db
      .selectFrom('deliveries')
      .select('claimed_by')
      .where('spec', '=', delivery.spec)
      .where('day', '=', delivery.day)
      .where('fingerprint', '=', delivery.fingerprint)
      .executeTakeFirst();
    return existing?.claimed_by === delivery.claimedBy;
  }

  /** Gives a claim back (its chain could not start): the next look offers the file again. */
  async release(spec: string, day: string, fingerprint: string, claimedBy: string): Promise<void> {
    await this.db
      .deleteFrom('deliveries')
      .where('spec', '=', spec)
      .where('day', '=', day)
      .where('fingerprint', '=', fingerprint)
      .where('claimed_by', '=', claimedBy)
      .execute();
  }
}
