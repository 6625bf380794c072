import type { Kysely } from 'kysely';
import type { Tables } from './tables';

/** The definition a spec version was pinned to when runs first used it. */
export interface PinnedSpecVersion {
  definitionHash: string;
  /** The spec's file then, if known. */
  definedIn: string | null;
  pinnedAt: string;
}

/** The definition each spec version was first used with (issue #13: an edit must bump the version). */
export class SpecVersionsRepository {
  constructor(private readonly db: Kysely<Tables>) {}

  async pinned(spec: string, version: string): Promise<PinnedSpecVersion | undefined> {
    const row = await this.db
      .selectFrom('spec_versions')
      .selectAll()
      .where('spec', '=', spec)
      .where('version', '=', version)
      .executeTakeFirst();
    return row && { definitionHash: row.definition_hash, definedIn: row.defined_in, pinnedAt: row.created_at };
  }

  /** Pins `spec@version` to a definition unless it is pinned already (the first pin stays). */
  async pin(spec: string, version: string, definitionHash: string, definedIn: string | undefined): Promise<void> {
    await this.db
      .insertInto('spec_versions')
      .values({
        spec,
        version,
        definition_hash: definitionHash,
        defined_in: definedIn ?? null,
        created_at: new Date().toISOString(),
      })
      .onConflict((oc) => oc.columns(['spec', 'version']).doNothing())
      .execute();
  }
}
