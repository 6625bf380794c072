import type { Kysely, Migration } from 'kysely';

export type StoreDialect = 'sqlite' | 'postgres';

/**
 * Schema migrations, applied in key order by Kysely's Migrator. Never edit a released migration:
 * add a new key instead, since stores in the field have already recorded the old ones as done.
 *
 * Counts are `bigint` (SQLite gives it INTEGER affinity, i.e. 64-bit). The dialect is needed only
 * for generated ids (alerts, prediction log): SQLite's autoincrement rowid vs. a PostgreSQL identity column.
 */
export function migrations(dialect: StoreDialect): Record<string, Migration> {
  return {
    '0001_metadata': {
      // Kysely<any>: a migration describes the schema as it was then, not today's table types.
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('run_stats')
          .addColumn('subject', 'text', (col) => col.notNull())
          .addColumn('batch_id', 'text', (col) => col.notNull())
          .addColumn('pipeline_kind', 'text', (col) => col.notNull())
          .addColumn('workflow_id', 'text', (col) => col.notNull())
          .addColumn('run_id', 'text', (col) => col.notNull())
          .addColumn('rows_read', 'bigint', (col) => col.notNull())
          .addColumn('rows_accepted', 'bigint', (col) => col.notNull())
          .addColumn('rows_rejected', 'bigint', (col) => col.notNull())
          .addColumn('source_rows', 'bigint')
          .addColumn('output_uri', 'text')
          .addColumn('output_hash', 'text')
          .addColumn('status', 'text', (col) => col.notNull())
          .addColumn('created_at', 'text', (col) => col.notNull())
          .addPrimaryKeyConstraint('run_stats_pk', ['subject', 'batch_id'])
          .execute();
        // Serves trailingPublished / latestPublished: newest published runs of one subject.
        await db.schema
          .createIndex('run_stats_subject_status_created')
          .on('run_stats')
          .columns(['subject', 'status', 'created_at'])
          .execute();

        await db.schema
          .createTable('lineage')
          .addColumn('output_uri', 'text', (col) => col.primaryKey())
          .addColumn('kind', 'text', (col) => col.notNull())
          .addColumn('source_uri', 'text', (col) => col.notNull())
          .addColumn('source_fingerprint', 'text')
          .addColumn('contract_name', 'text')
          .addColumn('contract_version', 'text')
          .addColumn('rows_read', 'bigint', (col) => col.notNull())
          .addColumn('rows_accepted', 'bigint', (col) => col.notNull())
          .addColumn('rows_rejected', 'bigint', (col) => col.notNull())
          .addColumn('output_hash', 'text', (col) => col.notNull())
          .addColumn('workflow_id', 'text', (col) => col.notNull())
          .addColumn('run_id', 'text', (col) => col.notNull())
          .addColumn('created_at', 'text', (col) => col.notNull())
          .addColumn('details', 'text', (col) => col.notNull())
          .execute();
        await db.schema.createIndex('lineage_created').on('lineage').column('created_at').execute();

        await db.schema
          .createTable('alerts')
          .addColumn('id', dialect === 'postgres' ? 'bigint' : 'integer', (col) =>
            dialect === 'postgres' ? col.primaryKey().generatedByDefaultAsIdentity() : col.primaryKey().autoIncrement(),
          )
          .addColumn('dedupe_key', 'text', (col) => col.notNull().unique())
          .addColumn('severity', 'text', (col) => col.notNull())
          .addColumn('code', 'text', (col) => col.notNull())
          .addColumn('subject', 'text', (col) => col.notNull())
          .addColumn('message', 'text', (col) => col.notNull())
          .addColumn('observed', 'text')
          .addColumn('expected', 'text')
          .addColumn('workflow_id', 'text')
          .addColumn('run_id', 'text')
          .addColumn('ui_url', 'text')
          .addColumn('created_at', 'text', (col) => col.notNull())
          .addColumn('details', 'text', (col) => col.notNull())
          .execute();
        await db.schema.createIndex('alerts_created').on('alerts').column('created_at').execute();
      },
    },
    '0002_online_features': {
      // The embedded online feature store: latest feature values per entity, read by the prediction
      // server. The primary key serves both the point lookup and listing one entity type.
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('online_features')
          .addColumn('feature_set', 'text', (col) => col.notNull())
          .addColumn('version', 'text', (col) => col.notNull())
          .addColumn('entity_type', 'text', (col) => col.notNull())
          .addColumn('entity_key', 'text', (col) => col.notNull())
          .addColumn('values_json', 'text', (col) => col.notNull())
          .addColumn('valid_from', 'text', (col) => col.notNull())
          .addColumn('updated_at', 'text', (col) => col.notNull())
          .addPrimaryKeyConstraint('online_features_pk', ['feature_set', 'version', 'entity_type', 'entity_key'])
          .execute();
      },
    },
    '0003_feature_metadata': {
      // One row per computed feature partition (the backfill's "already done" list and the history
      // the partition checks compare against), and the definition each feature-set version was
      // first computed with (so a changed definition without a version bump is refused).
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('feature_partitions')
          .addColumn('feature_set', 'text', (col) => col.notNull())
          .addColumn('version', 'text', (col) => col.notNull())
          .addColumn('partition', 'text', (col) => col.notNull())
          .addColumn('status', 'text', (col) => col.notNull())
          .addColumn('rows', 'bigint', (col) => col.notNull())
          .addColumn('input_uri', 'text', (col) => col.notNull())
          .addColumn('output_uri', 'text')
          .addColumn('output_hash', 'text')
          .addColumn('stats_json', 'text', (col) => col.notNull())
          .addColumn('duration_ms', 'bigint', (col) => col.notNull())
          .addColumn('workflow_id', 'text', (col) => col.notNull())
          .addColumn('run_id', 'text', (col) => col.notNull())
          .addColumn('created_at', 'text', (col) => col.notNull())
          .addPrimaryKeyConstraint('feature_partitions_pk', ['feature_set', 'version', 'partition'])
          .execute();
        await db.schema
          .createTable('feature_set_versions')
          .addColumn('feature_set', 'text', (col) => col.notNull())
          .addColumn('version', 'text', (col) => col.notNull())
          .addColumn('definition_hash', 'text', (col) => col.notNull())
          .addColumn('created_at', 'text', (col) => col.notNull())
          .addPrimaryKeyConstraint('feature_set_versions_pk', ['feature_set', 'version'])
          .execute();
      },
    },
    '0004_model_registry': {
      // Model versions with their stage, and every decision about them (approve, reject, timeout,
      // promote, rollback): who, when, what, why. registration_key makes registering idempotent.
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('model_versions')
          .addColumn('model_name', 'text', (col) => col.notNull())
          .addColumn('version', 'bigint', (col) => col.notNull())
          .addColumn('registration_key', 'text', (col) => col.notNull())
          .addColumn('stage', 'text', (col) => col.notNull())
          .addColumn('artifact_uri', 'text', (col) => col.notNull())
          .addColumn('metrics_json', 'text', (col) => col.notNull())
          .addColumn('lineage_json', 'text', (col) => col.notNull())
          .addColumn('workflow_id', 'text', (col) => col.notNull())
          .addColumn('run_id', 'text', (col) => col.notNull())
          .addColumn('created_at', 'text', (col) => col.notNull())
          .addColumn('updated_at', 'text', (col) => col.notNull())
          .addPrimaryKeyConstraint('model_versions_pk', ['model_name', 'version'])
          .addUniqueConstraint('model_versions_registration', ['model_name', 'registration_key'])
          .execute();
        await db.schema
          .createTable('model_decisions')
          .addColumn('dedupe_key', 'text', (col) => col.primaryKey())
          .addColumn('model_name', 'text', (col) => col.notNull())
          .addColumn('version', 'bigint', (col) => col.notNull())
          .addColumn('decision', 'text', (col) => col.notNull())
          .addColumn('actor', 'text', (col) => col.notNull())
          .addColumn('reason', 'text', (col) => col.notNull())
          .addColumn('workflow_id', 'text', (col) => col.notNull())
          .addColumn('created_at', 'text', (col) => col.notNull())
          .execute();
        await db.schema
          .createIndex('model_decisions_version')
          .on('model_decisions')
          .columns(['model_name', 'version', 'created_at'])
          .execute();
      },
    },
    '0005_prediction_log': {
      // Every prediction served (or replayed by the skew check, or batch-scored): the model version,
      // the model inputs it saw and its score. Monitoring reads it by model and event-time window.
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('prediction_log')
          .addColumn('id', dialect === 'postgres' ? 'bigint' : 'integer', (col) =>
            dialect === 'postgres' ? col.primaryKey().generatedByDefaultAsIdentity() : col.primaryKey().autoIncrement(),
          )
          .addColumn('request_id', 'text', (col) => col.notNull())
          .addColumn('model_name', 'text', (col) => col.notNull())
          .addColumn('model_version', 'bigint', (col) => col.notNull())
          .addColumn('stage', 'text', (col) => col.notNull())
          .addColumn('feature_set', 'text', (col) => col.notNull())
          .addColumn('feature_set_version', 'text', (col) => col.notNull())
          .addColumn('event_time', 'text', (col) => col.notNull())
          .addColumn('entity_keys_json', 'text', (col) => col.notNull())
          .addColumn('request_json', 'text', (col) => col.notNull())
          .addColumn('features_json', 'text', (col) => col.notNull())
          .addColumn('score', 'double precision', (col) => col.notNull())
          .addColumn('source', 'text', (col) => col.notNull())
          .addColumn('created_at', 'text', (col) => col.notNull())
          .execute();
        await db.schema
          .createIndex('prediction_log_model_event')
          .on('prediction_log')
          .columns(['model_name', 'event_time'])
          .execute();
      },
    },
    '0002_spec_versions': {
      // The definition each spec version was first used with: an edited spec must bump its version.
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('spec_versions')
          .addColumn('spec', 'text', (col) => col.notNull())
          .addColumn('version', 'text', (col) => col.notNull())
          .addColumn('definition_hash', 'text', (col) => col.notNull())
          .addColumn('defined_in', 'text')
          .addColumn('created_at', 'text', (col) => col.notNull())
          .addPrimaryKeyConstraint('spec_versions_pk', ['spec', 'version'])
          .execute();
      },
    },
    '0003_deliveries': {
      // The files a sensor has handed to a daily chain, by day and content: a file seen twice is ingested once.
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('deliveries')
          .addColumn('spec', 'text', (col) => col.notNull())
          .addColumn('fingerprint', 'text', (col) => col.notNull())
          .addColumn('source_uri', 'text', (col) => col.notNull())
          .addColumn('day', 'text', (col) => col.notNull())
          .addColumn('size', 'bigint', (col) => col.notNull())
          .addColumn('modified_at', 'text', (col) => col.notNull())
          .addColumn('workflow_id', 'text', (col) => col.notNull())
          .addColumn('claimed_by', 'text', (col) => col.notNull())
          .addColumn('created_at', 'text', (col) => col.notNull())
          .addPrimaryKeyConstraint('deliveries_pk', ['spec', 'day', 'fingerprint'])
          .execute();
        // Serves claimedFiles: a sensor skips a claimed file unchanged since (same size and time) unhashed.
        await db.schema
          .createIndex('deliveries_spec_source')
          .on('deliveries')
          .columns(['spec', 'source_uri'])
          .execute();
      },
    },
    '0006_prediction_log_shadow': {
      // A staged candidate running in shadow: its version and its score for the same row, beside production's.
      async up(db: Kysely<any>) {
        await db.schema.alterTable('prediction_log').addColumn('shadow_version', 'bigint').execute();
        await db.schema.alterTable('prediction_log').addColumn('shadow_score', 'double precision').execute();
      },
    },
  };
}
