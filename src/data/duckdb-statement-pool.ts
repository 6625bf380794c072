import type { DuckDBConnection, DuckDBInstance, DuckDBPreparedStatement, DuckDBValue } from '@duckdb/node-api';
import { rowsOf } from './duckdb';

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
 * shapes (the prediction server's, one per request). Opening a connection and preparing a statement
 * for every request cost about a third of a prediction's time; a query runs here on an idle
 * connection, with the statement it prepared for the same SQL text, bound to this query's parameters.
 * One query at a time per connection, so a prepared statement is never bound twice at once.
 */
export class PreparedStatementPool {
  private readonly idle: Session[] = [];
  private closed = false;

  constructor(private readonly duck: DuckDBInstance) {}

  async query<T = Record<string, unknown>>(sql: string, params: Record<string, DuckDBValue>): Promise<T[]> {
    if (this.closed) throw new Error('the statement pool is closed');
    const session = this.idle.pop() ?? { conn: await this.duck.connect(), statements: new Map() };
    try {
      const statement = await this.statement(session, sql);
      statement.bind(params);
      return rowsOf<T>(await statement.runAndReadAll());
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

function closeSession(session: Session): void {
  for (const statement of session.statements.values()) statement.destroySync();
  session.conn.closeSync();
}
