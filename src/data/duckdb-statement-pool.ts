import {
  JSDuckDBValueConverter,
  type DuckDBConnection,
  type DuckDBInstance,
  type DuckDBMaterializedResult,
  type DuckDBPreparedStatement,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { jsonSafe } from './duckdb';

/** Connections kept open between queries; more run at once when needed, and are closed after. */
const MAX_IDLE_SESSIONS = 8;
/** Prepared statements kept per connection (least recently used closed first). */
const MAX_STATEMENTS_PER_SESSION = 32;

interface Session {
  conn: DuckDBConnection;
  statements: Map<string, DuckDBPreparedStatement>;
}

/**
 * DuckDB connections kept open with their prepared statements, for many small queries of a few
 * shapes (the prediction server's, one per batch of requests). Opening a connection and preparing a
 * statement for every request cost about a third of a prediction's time; a query runs here on an
 * idle connection, with the statement it prepared for the same SQL text, bound to this query's
 * parameters. One query at a time per connection, so a prepared statement is never bound twice at once.
 */
export class PreparedStatementPool {
  private readonly idle: Session[] = [];
  private closed = false;

  constructor(private readonly duck: DuckDBInstance) {}

  /** `types` gives a parameter's type where its value does not tell (a list, which may start with a null). */
  async query<T = Record<string, unknown>>(
    sql: string,
    params: Record<string, DuckDBValue>,
    types?: Record<string, DuckDBType>,
  ): Promise<T[]> {
    if (this.closed) throw new Error('the statement pool is closed');
    const session = this.idle.pop() ?? { conn: await this.duck.connect(), statements: new Map() };
    try {
      const statement = await this.statement(session, sql);
      statement.bind(params, types);
      return materializedRows<T>(await statement.run());
    } finally {
      if (this.closed || this.idle.length >= MAX_IDLE_SESSIONS) closeSession(session);
      else this.idle.push(session);
    }
  }

  /** Closes the idle connections; one still running a query closes when it finishes. */
  close(): void {
    this.closed = true;
    for (const session of this.idle.splice(0)) closeSession(session);
  }

  private async statement(session: Session, sql: string): Promise<DuckDBPreparedStatement> {
    const cached = session.statements.get(sql);
    if (cached) {
      // Map order is insertion order: re-inserting makes it the most recently used.
      session.statements.delete(sql);
      session.statements.set(sql, cached);
      return cached;
    }
    const prepared = await session.conn.prepare(sql);
    session.statements.set(sql, prepared);
    if (session.statements.size > MAX_STATEMENTS_PER_SESSION) {
      const [oldest, statement] = session.statements.entries().next().value!;
      session.statements.delete(oldest);
      statement.destroySync();
    }
    return prepared;
  }
}

/**
 * A materialized result's rows as rowsOf (duckdb.ts) gives them, JS values with BIGINT as numbers,
 * read from its chunks in place: fetching them would cost a round trip through the thread pool per
 * chunk, and one more to find the end.
 */
function materializedRows<T>(result: DuckDBMaterializedResult): T[] {
  const names = result.deduplicatedColumnNames();
  const rows: Record<string, unknown>[] = [];
  for (let c = 0; c < result.chunkCount; c++) {
    const chunk = result.getChunk(c);
    for (let r = 0; r < chunk.rowCount; r++) {
      const row: Record<string, unknown> = {};
      chunk.visitRowValues(r, (value, _row, column, type) => {
        row[names[column]!] = jsonSafe(JSDuckDBValueConverter(value, type, JSDuckDBValueConverter));
      });
      rows.push(row);
    }
  }
  return rows as T[];
}

function closeSession(session: Session): void {
  for (const statement of session.statements.values()) statement.destroySync();
  session.conn.closeSync();
}
