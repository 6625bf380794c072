import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Dialect } from 'kysely';
import { Pool, types } from 'pg';
import { AlertsRepository } from './alerts';
import { DeliveriesRepository } from './deliveries';
import { FeatureMetadataRepository } from './feature-metadata';
import { ModelRegistryRepository } from './model-registry';
import { LineageRepository } from './lineage';
import { migrations, type StoreDialect } from './migrations';
import { PredictionLogRepository } from './prediction-log';
import { RunStatsRepository } from './run-stats';
import { SpecVersionsRepository } from './spec-versions';
import { cacheStatements } from './sqlite-statement-cache';
import type { Tables } from './tables';

export interface MetadataStore {
  db: Kysely<Tables>;
  runStats: RunStatsRepository;
  lineage: LineageRepository;
  alerts: AlertsRepository;
  features: FeatureMetadataRepository;
  models: ModelRegistryRepository;
  predictions: PredictionLogRepository;
  specs: SpecVersionsRepository;
  deliveries: DeliveriesRepository;
  close(): Promise<void>;
}

/** How long a SQLite writer waits for another process (worker, CLI) to release the file. */
const SQLITE_BUSY_TIMEOUT_MS = 10_000;

/**
 * Opens the store at `sqlite:<absolute file path>` or `postgres://...` and brings its schema up to date.
 * Safe to call from several processes at once: they serialise on a database-level lock while migrating.
 */
export async function openMetadataStore(url: string): Promise<MetadataStore> {
  const dialect: StoreDialect = url.startsWith('sqlite:') ? 'sqlite' : 'postgres';
  const db = new Kysely<Tables>({ dialect: dialect === 'sqlite' ? sqliteDialect(url) : postgresDialect(url) });
  try {
    await migrate(db, dialect);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return {
    db,
    runStats: new RunStatsRepository(db),
    lineage: new LineageRepository(db),
    alerts: new AlertsRepository(db),
    features: new FeatureMetadataRepository(db),
    models: new ModelRegistryRepository(db),
    predictions: new PredictionLogRepository(db),
    specs: new SpecVersionsRepository(db),
    deliveries: new DeliveriesRepository(db),
    close: () => db.destroy(),
  };
}

function sqliteDialect(url: string): Dialect {
  const file = url.slice('sqlite:'.length);
  if (!path.isAbsolute(file)) throw new Error(`metadata store: expected sqlite:<absolute file path>, got ${url}`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const database = new Database(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  // WAL lets readers (CLI) proceed while a writer (worker) commits; the mode persists in the file.
  switchToWal(database);
  cacheStatements(database);
  return new SqliteDialect({ database });
}

/**
 * Switching to WAL needs the file to itself, and SQLite does not always wait for it (no busy handler on
 * that path): while another process migrates a new file, the switch fails at once as "database is
 * locked". So it is retried, for as long as any other statement would wait.
 */
function switchToWal(database: Database.Database): void {
  const deadline = Date.now() + SQLITE_BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      database.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if (!/database is locked/.test((error as Error).message) || Date.now() > deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
}

function postgresDialect(url: string): Dialect {
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new Error(`metadata store: expected sqlite:<file> or postgres://user:pass@host/db, got ${url}`);
  }
  // Per-pool parser rather than pg's global one, so other pg users in the process are unaffected.
  const pool = new Pool({
    connectionString: url,
    types: {
      getTypeParser: (oid, format) =>
        oid === types.builtins.INT8 ? parseSafeInteger : types.getTypeParser(oid, format),
    },
  });
  // An idle client dropped by the server (restart, failover) is discarded by the pool; without a
  // listener the pool's 'error' event would crash the process instead.
  pool.on('error', () => undefined);
  return new PostgresDialect({ pool });
}

/** bigint columns arrive as strings; counts are bounded to the safe range, so a number is exact. */
function parseSafeInteger(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`metadata store: ${text} exceeds the safe integer range`);
  return value;
}

async function migrate(db: Kysely<Tables>, dialect: StoreDialect): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations(dialect) },
  });
  if (dialect === 'postgres') {
    // Kysely takes a PostgreSQL advisory lock around the migrations.
    return check(await migrator.migrateToLatest());
  }
  // Kysely's SQLite adapter has no cross-process lock, so hold SQLite's write lock for the whole run:
  // a second process waits (busy timeout) and then sees the migrations done. SQLite DDL is transactional.
  await sql`begin immediate`.execute(db);
  const result = await migrator.migrateToLatest();
  await sql.raw(result.error === undefined ? 'commit' : 'rollback').execute(db);
  check(result);
}

function check({ error }: { error?: unknown }): void {
  if (error !== undefined) throw new Error('metadata store: migration failed', { cause: error });
}
