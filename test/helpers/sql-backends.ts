import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDatabase, startPostgres, type TestPostgres } from './postgres';

/** A SQL engine the metadata store runs on; every test gets its own empty database. */
export interface SqlBackend {
  name: string;
  start(): Promise<void>;
  /** The URL of a new, empty database (MLPIPE_DATABASE_URL form). */
  freshUrl(): Promise<string>;
  stop(): Promise<void>;
}

export function sqliteBackend(): SqlBackend {
  let dir = '';
  let stores = 0;
  return {
    name: 'SQLite',
    async start() {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlpipe-sqlite-'));
    },
    // A not-yet-existing subdirectory, so every test also checks the parent dir is created.
    freshUrl: async () => `sqlite:${path.join(dir, `store-${++stores}`, 'metadata.db')}`,
    async stop() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function postgresBackend(): SqlBackend {
  let server: TestPostgres | undefined;
  let stores = 0;
  return {
    name: 'PostgreSQL',
    async start() {
      server = await startPostgres();
    },
    async freshUrl() {
      if (!server) throw new Error('postgres not started');
      return createDatabase(server.url, `store_${++stores}`);
    },
    async stop() {
      await server?.stop();
    },
  };
}
