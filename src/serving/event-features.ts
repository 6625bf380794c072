import type { DuckDBValue } from '@duckdb/node-api';
import { sqlIdent } from '../data/duckdb';
import type { PreparedStatementPool } from '../data/duckdb-statement-pool';
import { duckType } from '../data/row-rules';
import { entityKeyColumn, entityKeySql, eventFeatureSql } from '../features/feature-sql';
import type { RequestRow } from './request-schema';
import type { ServedModel } from './served-models';

/** What a request row says by itself: its event time, its entities' keys, its event features. */
export interface EventRow {
  /** A contract timestamp is a wall-clock time, read as UTC like everywhere in the pipeline. */
  eventTime: Date;
  entityKeys: Record<string, string | null>;
  eventFeatures: Record<string, number | null>;
}

const ROW = '__row';
const EVENT_MS = '__event_ms';

/**
 * Evaluates the offline store's own SQL (feature-sql.ts) over the request rows in DuckDB, so an
 * event feature or an entity key cannot be computed differently for serving than for training.
 * Each value is bound as a parameter and cast to its contract column's DuckDB type, the types the
 * offline rows have; nothing from the request is spliced into the SQL text.
 */
export async function computeEventRows(
  statements: PreparedStatementPool,
  served: ServedModel,
  rows: readonly RequestRow[],
): Promise<EventRow[]> {
  const columns = served.inputColumns;
  const params: Record<string, DuckDBValue> = {};
  const tuples = rows.map((row, i) => {
    const values = columns.map((c, j) => {
      const name = `p${i}_${j}`;
      params[name] = row[c.name] ?? null;
      return `CAST($${name} AS ${duckType(c)})`;
    });
    return `(${[String(i), ...values].join(', ')})`;
  });
  const names = [ROW, ...columns.map((c) => c.name)].map(sqlIdent).join(', ');
  const select = [
    sqlIdent(ROW),
    `epoch_ms(CAST(${sqlIdent(served.spec.contract.eventTime)} AS TIMESTAMP)) AS ${sqlIdent(EVENT_MS)}`,
    ...served.entities.map(entityKeySql),
    ...served.eventFeatures.map(eventFeatureSql),
  ];
  const sql = `SELECT ${select.join(', ')} FROM (VALUES ${tuples.join(', ')}) AS input(${names}) ORDER BY ${sqlIdent(ROW)}`;
  // The SQL text depends on the model and the row count only (values are parameters): its statement is reused.
  const result = await statements.query(sql, params);
  return result.map((r) => ({
    eventTime: new Date(r[EVENT_MS] as number),
    entityKeys: Object.fromEntries(served.entities.map((e) => [e.name, r[entityKeyColumn(e.name)] as string | null])),
    eventFeatures: Object.fromEntries(served.eventFeatures.map((f) => [f.name, r[f.name] as number | null])),
  }));
}
