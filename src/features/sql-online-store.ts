import { CompiledQuery, sql, type Kysely, type Selectable } from 'kysely';
import type { OnlineFeaturesTable, Tables } from '../store/tables';
import {
  batches,
  byEntityKey,
  checkNames,
  prepareRows,
  UPSERT_BATCH_SIZE,
  type OnlineRow,
  type OnlineStore,
} from './online-store';
import { SqlOnlineGets } from './sql-online-gets';

/**
 * The embedded online store: the `online_features` table of the metadata store (SQLite or
 * PostgreSQL). It borrows the metadata store's connection, so close() leaves the db open.
 */
export class SqlOnlineStore implements OnlineStore {
  private readonly gets: SqlOnlineGets;
  private readonly placeholder: (n: number) => string;
  /** The upsert of a full batch, written once: most rows of a partition go through it. */
  private fullBatchSql: string | undefined;

  constructor(private readonly db: Kysely<Tables>) {
    this.gets = new SqlOnlineGets(db);
    this.placeholder = placeholderOf(db);
  }

  /** One transaction for all batches, so a failed upsert leaves no partial write behind. */
  async upsert(featureSet: string, version: string, entityType: string, rows: OnlineRow[]): Promise<number> {
    checkNames(featureSet, version, entityType);
    const prepared = prepareRows(rows);
    if (prepared.length === 0) return 0;
    const updatedAt = new Date().toISOString();
    return this.db.transaction().execute(async (trx) => {
      let written = 0;
      for (const batch of batches(prepared)) {
        // In UPSERT_COLUMNS order.
        const values: unknown[] = [];
        for (const row of batch)
          values.push(
            featureSet,
            version,
            entityType,
            row.entityKey,
            JSON.stringify(row.values),
            row.validFrom,
            updatedAt,
          );
        const result = await trx.executeQuery(CompiledQuery.raw(this.upsertSqlFor(batch.length), values));
        written += Number(result.numAffectedRows ?? 0);
      }
      return written;
    });
  }

  private upsertSqlFor(rows: number): string {
    if (rows !== UPSERT_BATCH_SIZE) return upsertSql(rows, this.placeholder);
    return (this.fullBatchSql ??= upsertSql(rows, this.placeholder));
  }

  /** Lookups asked for together are answered by one statement (SqlOnlineGets). */
  async get(featureSet: string, version: string, entityType: string, entityKey: string) {
    const row = await this.gets.get(featureSet, version, entityType, entityKey);
    return row && { ...fromRow(row), updatedAt: row.updated_at };
  }

  async list(featureSet: string, version: string, entityType: string): Promise<OnlineRow[]> {
    const rows = await this.db
      .selectFrom('online_features')
      .selectAll()
      .where('feature_set', '=', featureSet)
      .where('version', '=', version)
      .where('entity_type', '=', entityType)
      .execute();
    return rows.map(fromRow).sort(byEntityKey);
  }

  async close(): Promise<void> {}
}

function fromRow(row: Selectable<OnlineFeaturesTable>): OnlineRow {
  return {
    entityKey: row.entity_key,
    values: JSON.parse(row.values_json) as OnlineRow['values'],
    validFrom: row.valid_from,
  };
}

const UPSERT_COLUMNS = [
  'feature_set',
  'version',
  'entity_type',
  'entity_key',
  'values_json',
  'valid_from',
  'updated_at',
] satisfies (keyof OnlineFeaturesTable)[];

/**
 * The upsert of `rows` rows, written out rather than built by the query builder: a partition upserts
 * thousands of rows, and building the statement node by node (an object per value) allocated about as
 * much as the rest of a backfill's JavaScript. A row replaces the stored one only if its validFrom is
 * not older: both are normalised ISO text, so text order is time order. A skipped update is not
 * counted as a changed row by either engine, which makes the count "rows written".
 */
function upsertSql(rows: number, placeholder: (n: number) => string): string {
  const width = UPSERT_COLUMNS.length;
  const tuples = Array.from(
    { length: rows },
    (_, r) => `(${Array.from({ length: width }, (_, c) => placeholder(r * width + c + 1)).join(', ')})`,
  );
  const replaced = ['values_json', 'valid_from', 'updated_at'] satisfies (keyof OnlineFeaturesTable)[];
  const updated = replaced.map((c) => `"${c}" = excluded."${c}"`);
  return `INSERT INTO "online_features" (${UPSERT_COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES ${tuples.join(', ')}
    ON CONFLICT ("feature_set", "version", "entity_type", "entity_key") DO UPDATE SET ${updated.join(', ')}
    WHERE excluded."valid_from" >= "online_features"."valid_from"`;
}

/** The database's n-th (1-based) parameter placeholder as its query compiler writes it: `?` (SQLite) or `$n` (PostgreSQL). */
function placeholderOf(db: Kysely<Tables>): (n: number) => string {
  return sql`${0}`.compile(db).sql === '?' ? () => '?' : (n) => `$${n}`;
}
