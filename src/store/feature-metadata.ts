import type { Kysely, Selectable } from 'kysely';
import type { FeaturePartitionsTable, Tables } from './tables';

export type FeaturePartition = Omit<FeaturePartitionsTable, 'stats_json'> & { stats: Record<string, unknown> };

export class FeatureDefinitionChangedError extends Error {
  override name = 'FeatureDefinitionChangedError';
}

/** What the feature pipeline records: partitions computed, and each version's definition. */
export class FeatureMetadataRepository {
  constructor(private readonly db: Kysely<Tables>) {}

  /** The published partitions of one feature-set version: what every read here starts from. */
  private published(featureSet: string, version: string) {
    return this.db
      .selectFrom('feature_partitions')
      .where('feature_set', '=', featureSet)
      .where('version', '=', version)
      .where('status', '=', 'published');
  }

  /** Upsert: re-running a partition replaces its row. */
  async recordPartition(p: FeaturePartition): Promise<void> {
    const { stats, ...rest } = p;
    const row = { ...rest, stats_json: JSON.stringify(stats) };
    await this.db
      .insertInto('feature_partitions')
      .values(row)
      .onConflict((oc) => oc.columns(['feature_set', 'version', 'partition']).doUpdateSet(row))
      .execute();
  }

  /** The partitions of a version already published, among the given ones. */
  async publishedPartitions(featureSet: string, version: string, partitions: string[]): Promise<string[]> {
    if (partitions.length === 0) return [];
    const rows = await this.published(featureSet, version)
      .select('partition')
      .where('partition', 'in', partitions)
      .execute();
    return rows.map((r) => r.partition).sort();
  }

  /** The latest published partitions before `partition` with their row counts, newest first. */
  async recentRowCounts(
    featureSet: string,
    version: string,
    partition: string,
    limit: number,
  ): Promise<{ partition: string; rows: number }[]> {
    const rows = await this.published(featureSet, version)
      .select(['partition', 'rows'])
      .where('partition', '<', partition)
      .orderBy('partition', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ partition: r.partition, rows: Number(r.rows) }));
  }

  /** The newest published partition strictly before `partition`: the reference of its drift check. */
  async previousPublished(
    featureSet: string,
    version: string,
    partition: string,
  ): Promise<FeaturePartition | undefined> {
    return partitionOf(
      await this.published(featureSet, version)
        .selectAll()
        .where('partition', '<', partition)
        .orderBy('partition', 'desc')
        .executeTakeFirst(),
    );
  }

  /** The record of one published partition. */
  async get(featureSet: string, version: string, partition: string): Promise<FeaturePartition | undefined> {
    return partitionOf(
      await this.published(featureSet, version).selectAll().where('partition', '=', partition).executeTakeFirst(),
    );
  }

  /**
   * Registers the definition a version is computed with, or checks it against the registered one:
   * changing a feature's definition must bump the feature-set version.
   */
  async registerDefinition(featureSet: string, version: string, definitionHash: string): Promise<void> {
    await this.db
      .insertInto('feature_set_versions')
      .values({
        feature_set: featureSet,
        version,
        definition_hash: definitionHash,
        created_at: new Date().toISOString(),
      })
      .onConflict((oc) => oc.columns(['feature_set', 'version']).doNothing())
      .execute();
    const registered = await this.db
      .selectFrom('feature_set_versions')
      .select('definition_hash')
      .where('feature_set', '=', featureSet)
      .where('version', '=', version)
      .executeTakeFirstOrThrow();
    if (registered.definition_hash !== definitionHash) {
      throw new FeatureDefinitionChangedError(
        `feature set ${featureSet} version ${version} was first computed with another definition (${registered.definition_hash.slice(0, 12)}); bump the version to change it`,
      );
    }
  }
}

function partitionOf(row: Selectable<FeaturePartitionsTable> | undefined): FeaturePartition | undefined {
  if (!row) return undefined;
  const { stats_json, ...rest } = row;
  return {
    ...rest,
    rows: Number(rest.rows),
    duration_ms: Number(rest.duration_ms),
    stats: JSON.parse(stats_json) as Record<string, unknown>,
  };
}
