import { BIGINT, BOOLEAN, DOUBLE, LIST, VARCHAR, listValue, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { sqlIdent } from '../data/duckdb';
import type { PreparedStatementPool } from '../data/duckdb-statement-pool';
import { duckType } from '../data/row-rules';
import { entityKeyColumn, entityKeySql, eventFeatureSql } from '../features/feature-sql';
import type { Column } from '../specs/contract-schema';
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
/** The list parameter of the input column at index j. */
const param = (j: number) => `p${j}`;

/**
 * The DuckDB type a request value arrives as (the request schema gave it its JS type): text for
 * strings, timestamps and dates, DOUBLE for numbers (every JS number is one, so it arrives exactly).
 * The query then casts it to its contract column's type, the type the offline rows have.
 */
function paramType(c: Column): DuckDBType {
  switch (c.type) {
    case 'integer':
    case 'double':
      return DOUBLE;
    case 'boolean':
      return BOOLEAN;
    default:
      return VARCHAR;
  }
}

/**
 * Evaluates the offline store's own SQL (feature-sql.ts) over request rows in DuckDB, so an event
 * feature or an entity key cannot be computed differently for serving than for training. Each input
 * column is bound as one list parameter and unnested, so the SQL text is the model's alone (one
 * prepared statement, whatever the number of rows) and nothing from the request is spliced into it.
 */
export class EventRowQuery {
  private readonly sql: string;
  private readonly types: Record<string, DuckDBType>;

  constructor(private readonly served: ServedModel) {
    const columns = served.inputColumns;
    this.types = Object.fromEntries([[ROW, LIST(BIGINT)], ...columns.map((c, j) => [param(j), LIST(paramType(c))])]);
    // Typed in the SQL too: a parameter whose type the statement leaves open makes DuckDB plan it again on every run.
    const list = (name: string, type: DuckDBType) => `unnest(CAST($${name} AS ${type.toString()}))`;
    const input = [
      `${list(ROW, this.types[ROW]!)} AS ${sqlIdent(ROW)}`,
      ...columns.map(
        (c, j) => `CAST(${list(param(j), this.types[param(j)]!)} AS ${duckType(c)}) AS ${sqlIdent(c.name)}`,
      ),
    ];
    const select = [
      sqlIdent(ROW),
      `epoch_ms(CAST(${sqlIdent(served.spec.contract.eventTime)} AS TIMESTAMP)) AS ${sqlIdent(EVENT_MS)}`,
      ...served.entities.map(entityKeySql),
      ...served.eventFeatures.map(eventFeatureSql),
    ];
    // No ORDER BY: sorting cost a third of the query; run() puts each row back in its place by ROW.
    this.sql = `SELECT ${select.join(', ')} FROM (SELECT ${input.join(', ')}) AS input`;
  }

  async run(statements: PreparedStatementPool, rows: readonly RequestRow[]): Promise<EventRow[]> {
    const params: Record<string, DuckDBValue> = { [ROW]: listValue(rows.map((_, i) => i)) };
    this.served.inputColumns.forEach((c, j) => (params[param(j)] = listValue(rows.map((r) => r[c.name] ?? null))));
    const result = await statements.query(this.sql, params, this.types);
    const { entities, eventFeatures } = this.served;
    const out = new Array<EventRow>(rows.length);
    for (const r of result) {
      out[r[ROW] as number] = {
        eventTime: new Date(r[EVENT_MS] as number),
        entityKeys: Object.fromEntries(entities.map((e) => [e.name, r[entityKeyColumn(e.name)] as string | null])),
        eventFeatures: Object.fromEntries(eventFeatures.map((f) => [f.name, r[f.name] as number | null])),
      };
    }
    return out;
  }
}
