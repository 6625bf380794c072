import type { Kysely, Selectable } from 'kysely';
import type { OnlineFeaturesTable, Tables } from '../store/tables';
import { batches, byEntityKey, checkNames, prepareRows, type OnlineRow, type OnlineStore } from './online-store';
import { SqlOnlineGets } from './sql-online-gets';

/**
 * The embedded online store: the `online_features` table of the metadata store (SQLite or
 * PostgreSQL). It borrows the metadata store's connection, so close() leaves the db open.
 */
export class SqlOnlineStore implements OnlineStore {
  private readonly gets: SqlOnlineGets;

  constructor(private readonly db: Kysely<Tables>) {
    this.gets = new SqlOnlineGets(db);
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
        const result = await trx
          .insertInto('online_features')
          .values(
            batch.map((row) => ({
              feature_set: featureSet,
              version,
              entity_type: entityType,
              entity_key: row.entityKey,
              values_json: JSON.stringify(row.values),
              valid_from: row.validFrom,
              updated_at: updatedAt,
            })),
          )
          .onConflict((oc) =>
            oc
              .columns(['feature_set', 'version', 'entity_type', 'entity_key'])
              .doUpdateSet((eb) => ({
                values_json: eb.ref('excluded.values_json'),
                valid_from: eb.ref('excluded.valid_from'),
                updated_at: eb.ref('excluded.updated_at'),
              }))
              // Both normalised ISO text, so text order is time order. A skipped update is not
              // counted as a changed row by either engine, which makes the count "rows written".
              .whereRef('excluded.valid_from', '>=', 'online_features.valid_from'),
          )
          .executeTakeFirst();
        written += Number(result.numInsertedOrUpdatedRows ?? 0);
      }
      return written;
    });
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
