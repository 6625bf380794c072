import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import { openMetadataStore, type MetadataStore } from '../../src/store/database';
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

/** What `describeOnSqlBackends` hands the suite it runs on one backend. */
export interface SqlBackendSuite {
  backend: SqlBackend;
  /** Runs `body` on a metadata store over a fresh, empty database of the backend, then closes the store. */
  withStore(body: (store: MetadataStore) => Promise<void>): Promise<void>;
}

/**
 * The suite once per SQL backend, as `describe(`${title} on SQLite`)` and `... on PostgreSQL`, the
 * backend started before its tests and stopped after them.
 */
export function describeOnSqlBackends(title: string, suite: (s: SqlBackendSuite) => void): void {
  for (const backend of [sqliteBackend(), postgresBackend()]) {
    describe(`${title} on ${backend.name}`, () => {
      before(() => backend.start());
      after(() => backend.stop());
      suite({
        backend,
        async withStore(body) {
          const store = await openMetadataStore(await backend.freshUrl());
          try {
            await body(store);
          } finally {
            await store.close();
          }
        },
      });
    });
  }
}
