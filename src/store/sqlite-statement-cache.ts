import type Database from 'better-sqlite3';

/** Statements kept per database; SQL with IN lists of varying length has many texts, so the cache is bounded. */
const MAX_CACHED_STATEMENTS = 256;

/**
 * Makes `database.prepare` return the statement already prepared for the same SQL text, least recently
 * used dropped first. Kysely prepares every query anew, and preparing costs about as much as running a
 * small query: a third of the prediction server's SQLite time went to it. Reuse is safe here because
 * every statement runs to completion synchronously before the next call (this store streams nothing
 * and binds parameters per call), and SQLite re-prepares a statement itself after a schema change.
 */
export function cacheStatements(database: Database.Database): void {
  const prepare = database.prepare.bind(database);
  const cache = new Map<string, Database.Statement>();
  database.prepare = ((source: string) => {
    const cached = cache.get(source);
    if (cached) {
      // Map order is insertion order: re-inserting makes it the most recently used.
      cache.delete(source);
      cache.set(source, cached);
      return cached;
    }
    const statement = prepare(source);
    cache.set(source, statement);
    if (cache.size > MAX_CACHED_STATEMENTS) cache.delete(cache.keys().next().value!);
    return statement;
  }) as typeof database.prepare;
}
