import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { OnlineRow, OnlineStore } from '../../src/features/online-store';
import { openOnlineStore } from '../../src/features/online-store-factory';
import { RedisOnlineStore } from '../../src/features/redis-online-store';
import { SqlOnlineStore } from '../../src/features/sql-online-store';
import { openMetadataStore } from '../../src/store/database';
import { postgresBackend, sqliteBackend, type SqlBackend } from '../helpers/sql-backends';
import { startRedis, type TestRedis } from '../helpers/redis';

/** A backend under test; every test gets an empty store so tests cannot see each other's rows. */
interface Backend {
  name: string;
  start(): Promise<void>;
  /** A fresh, empty store; closing it also releases whatever the backend opened for it. */
  open(): Promise<OnlineStore>;
  stop(): Promise<void>;
}

/** The embedded default: the online store lives in a (fresh) metadata store. */
async function sqlStore(metadataUrl: string): Promise<OnlineStore> {
  const metadata = await openMetadataStore(metadataUrl);
  const store = openOnlineStore(undefined, metadata.db);
  return {
    upsert: (...args) => store.upsert(...args),
    get: (...args) => store.get(...args),
    list: (...args) => store.list(...args),
    async close() {
      await store.close();
      await metadata.close();
    },
  };
}

/** The metadata store's SQL engines, each holding the online store in a fresh database. */
function sqlOnlineBackend(sql: SqlBackend): Backend {
  return {
    name: sql.name,
    start: () => sql.start(),
    open: async () => sqlStore(await sql.freshUrl()),
    stop: () => sql.stop(),
  };
}

function redisBackend(): Backend {
  let server: TestRedis | undefined;
  return {
    name: 'Redis',
    async start() {
      server = await startRedis();
    },
    async open() {
      if (!server) throw new Error('redis not started');
      const admin = new Redis(server.url);
      try {
        await admin.flushall();
      } finally {
        await admin.quit();
      }
      return new RedisOnlineStore(server.url);
    },
    async stop() {
      await server?.stop();
    },
  };
}

const FS = 'airport_delays';
const row = (entityKey: string, validFrom: string, values: OnlineRow['values']): OnlineRow => ({
  entityKey,
  values,
  validFrom,
});

for (const backend of [sqlOnlineBackend(sqliteBackend()), sqlOnlineBackend(postgresBackend()), redisBackend()]) {
  describe(`online store on ${backend.name}`, () => {
    before(() => backend.start());
    after(() => backend.stop());

    async function withStore(body: (store: OnlineStore) => Promise<void>): Promise<void> {
      const store = await backend.open();
      try {
        await body(store);
      } finally {
        await store.close();
      }
    }

    test('upsert then get round-trips values, nulls included', () =>
      withStore(async (store) => {
        const before = new Date().toISOString();
        const written = await store.upsert(FS, 'v1', 'airport', [
          row('JFK', '2024-01-01T00:00:00.000Z', { dep_delay_mean_7d: 12.5, cancel_rate_7d: null, flights_7d: 0 }),
          row('LAX', '2024-01-01T00:00:00.000Z', { dep_delay_mean_7d: -3.25, cancel_rate_7d: 0.01, flights_7d: 4200 }),
        ]);
        assert.equal(written, 2);

        const jfk = await store.get(FS, 'v1', 'airport', 'JFK');
        assert.deepEqual(
          { entityKey: jfk?.entityKey, values: jfk?.values, validFrom: jfk?.validFrom },
          {
            entityKey: 'JFK',
            values: { dep_delay_mean_7d: 12.5, cancel_rate_7d: null, flights_7d: 0 },
            validFrom: '2024-01-01T00:00:00.000Z',
          },
        );
        assert.ok(jfk && jfk.updatedAt >= before, `updatedAt ${jfk?.updatedAt} is the time of the write`);
        assert.equal(await store.get(FS, 'v1', 'airport', 'SFO'), undefined);
      }));

    test('monotonic: an older validFrom is ignored, an equal one overwrites, a newer one wins', () =>
      withStore(async (store) => {
        const get = async () => {
          const stored = await store.get(FS, 'v1', 'airport', 'JFK');
          return stored && { values: stored.values, validFrom: stored.validFrom };
        };
        assert.equal(await store.upsert(FS, 'v1', 'airport', [row('JFK', '2024-01-02T00:00:00Z', { x: 2 })]), 1);

        // A backfill of an earlier day arriving later must not roll the entity back.
        assert.equal(await store.upsert(FS, 'v1', 'airport', [row('JFK', '2024-01-01T00:00:00Z', { x: 1 })]), 0);
        assert.deepEqual(await get(), { values: { x: 2 }, validFrom: '2024-01-02T00:00:00.000Z' });

        assert.equal(await store.upsert(FS, 'v1', 'airport', [row('JFK', '2024-01-02T00:00:00Z', { x: 2.5 })]), 1);
        assert.deepEqual(await get(), { values: { x: 2.5 }, validFrom: '2024-01-02T00:00:00.000Z' });

        assert.equal(await store.upsert(FS, 'v1', 'airport', [row('JFK', '2024-01-03T00:00:00Z', { x: 3 })]), 1);
        assert.deepEqual(await get(), { values: { x: 3 }, validFrom: '2024-01-03T00:00:00.000Z' });
      }));

    test('a batch mixing new, older and newer rows writes only those that win', () =>
      withStore(async (store) => {
        await store.upsert(FS, 'v1', 'airport', [
          row('A', '2024-01-05T00:00:00Z', { x: 5 }),
          row('B', '2024-01-05T00:00:00Z', { x: 5 }),
        ]);
        const written = await store.upsert(FS, 'v1', 'airport', [
          row('A', '2024-01-04T00:00:00Z', { x: 4 }),
          row('B', '2024-01-06T00:00:00Z', { x: 6 }),
          row('C', '2024-01-01T00:00:00Z', { x: 1 }),
          // Repeated keys in one call end as sequential upserts would: newest, later on a tie.
          row('D', '2024-01-02T00:00:00Z', { x: 2 }),
          row('D', '2024-01-01T00:00:00Z', { x: 1 }),
          row('D', '2024-01-02T00:00:00Z', { x: 22 }),
        ]);
        assert.equal(written, 3);
        assert.deepEqual(
          (await store.list(FS, 'v1', 'airport')).map((r) => [r.entityKey, r.values.x]),
          [
            ['A', 5],
            ['B', 6],
            ['C', 1],
            ['D', 22],
          ],
        );
      }));

    test('re-upserting the same partition is idempotent', () =>
      withStore(async (store) => {
        const partition = [
          row('JFK-LAX', '2024-01-01T00:00:00Z', { route_delay: 7 }),
          row('LAX-JFK', '2024-01-01T00:00:00Z', { route_delay: null }),
        ];
        assert.equal(await store.upsert(FS, 'v1', 'route', partition), 2);
        const first = await store.list(FS, 'v1', 'route');
        // A retried activity rewrites the same rows: same content, and the write is not refused.
        assert.equal(await store.upsert(FS, 'v1', 'route', partition), 2);
        assert.deepEqual(await store.list(FS, 'v1', 'route'), first);
        assert.equal(first.length, 2);
      }));

    test('feature sets, versions and entity types are isolated', () =>
      withStore(async (store) => {
        await store.upsert(FS, 'v1', 'airport', [row('JFK', '2024-01-01T00:00:00Z', { x: 1 })]);
        await store.upsert(FS, 'v2', 'airport', [row('JFK', '2023-01-01T00:00:00Z', { x: 2 })]);
        await store.upsert(FS, 'v1', 'route', [row('JFK', '2023-01-01T00:00:00Z', { x: 3 })]);
        await store.upsert('weather', 'v1', 'airport', [row('JFK', '2023-01-01T00:00:00Z', { x: 4 })]);

        // Each older row was written: it competed only with rows of its own scope.
        assert.equal((await store.get(FS, 'v1', 'airport', 'JFK'))?.values.x, 1);
        assert.equal((await store.get(FS, 'v2', 'airport', 'JFK'))?.values.x, 2);
        assert.equal((await store.get(FS, 'v1', 'route', 'JFK'))?.values.x, 3);
        assert.equal((await store.get('weather', 'v1', 'airport', 'JFK'))?.values.x, 4);
        assert.deepEqual(await store.list(FS, 'v2', 'airport'), [row('JFK', '2023-01-01T00:00:00.000Z', { x: 2 })]);
        assert.deepEqual(await store.list(FS, 'v3', 'airport'), []);
      }));

    test('many gets at once, across scopes, repeated and missing keys: each answers its own entity', () =>
      withStore(async (store) => {
        const keys = Array.from({ length: 300 }, (_, i) => `K${i}`); // more than one statement's worth
        await store.upsert(
          FS,
          'v1',
          'airport',
          keys.map((k, i) => row(k, '2024-01-01T00:00:00Z', { i })),
        );
        await store.upsert(FS, 'v1', 'route', [row('K1', '2024-01-01T00:00:00Z', { i: -1 })]);
        await store.upsert(FS, 'v2', 'airport', [row('K2', '2024-01-01T00:00:00Z', { i: -2 })]);
        const asked: [string, string, string][] = [
          ...keys.map((k): [string, string, string] => ['v1', 'airport', k]),
          ['v1', 'airport', 'K7'],
          ['v1', 'airport', 'missing'],
          ['v1', 'route', 'K1'],
          ['v1', 'route', 'K2'],
          ['v2', 'airport', 'K2'],
          ['v3', 'airport', 'K2'],
        ];
        const got = await Promise.all(asked.map(([v, type, key]) => store.get(FS, v, type, key)));
        assert.deepEqual(
          got.map((r) => r && `${r.entityKey} ${r.values.i}`),
          [...keys.map((k, i) => `${k} ${i}`), 'K7 7', undefined, 'K1 -1', undefined, 'K2 -2', undefined],
        );
      }));

    test('5,000 rows in one upsert, then list returns them all sorted by entity key', () =>
      withStore(async (store) => {
        // Inserted in reverse, so the order of list() cannot come from insertion order.
        const rows = Array.from({ length: 5000 }, (_, i) =>
          row(`E${4999 - i}`, '2024-01-01T00:00:00Z', { i: 4999 - i, n: null }),
        );
        assert.equal(await store.upsert(FS, 'v1', 'airport', rows), 5000);

        const listed = await store.list(FS, 'v1', 'airport');
        assert.equal(listed.length, 5000);
        const keys = listed.map((r) => r.entityKey);
        assert.deepEqual(keys, [...keys].sort());
        assert.deepEqual(listed[0], row('E0', '2024-01-01T00:00:00.000Z', { i: 0, n: null }));
        assert.deepEqual(listed.find((r) => r.entityKey === 'E4321')?.values, { i: 4321, n: null });
      }));

    test('validFrom with an offset is normalised to UTC, so comparisons are by time', () =>
      withStore(async (store) => {
        // 2024-01-01T20:00Z, whose raw text would sort after the later instant below.
        await store.upsert(FS, 'v1', 'airport', [row('JFK', '2024-01-02T01:00:00+05:00', { x: 1 })]);
        assert.equal((await store.get(FS, 'v1', 'airport', 'JFK'))?.validFrom, '2024-01-01T20:00:00.000Z');

        assert.equal(await store.upsert(FS, 'v1', 'airport', [row('JFK', '2024-01-01T21:00:00Z', { x: 2 })]), 1);
        assert.equal(await store.upsert(FS, 'v1', 'airport', [row('JFK', '2024-01-02T02:00:00+06:00', { x: 0 })]), 0);
        assert.deepEqual(await store.get(FS, 'v1', 'airport', 'JFK').then((r) => r && [r.validFrom, r.values.x]), [
          '2024-01-01T21:00:00.000Z',
          2,
        ]);
      }));

    test('invalid rows and names are rejected and nothing is written', () =>
      withStore(async (store) => {
        const good = row('JFK', '2024-01-01T00:00:00Z', { x: 1 });
        await assert.rejects(store.upsert(FS, 'v1', 'airport', [good, row('LAX', '2024-01-01T00:00:00Z', { x: NaN })]));
        await assert.rejects(store.upsert(FS, 'v1', 'airport', [good, row('LAX', 'yesterday', { x: 1 })]));
        await assert.rejects(store.upsert(FS, 'v1', 'airport', [good, row('', '2024-01-01T00:00:00Z', { x: 1 })]));
        await assert.rejects(store.upsert('a:b', 'v1', 'airport', [good]));
        assert.deepEqual(await store.list(FS, 'v1', 'airport'), []);
      }));
  });
}

describe('openOnlineStore', () => {
  let dir = '';
  let redis: TestRedis | undefined;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlpipe-online-factory-'));
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('no URL serves from the metadata database, redis:// from Redis, anything else is refused', async () => {
    const metadata = await openMetadataStore(`sqlite:${path.join(dir, 'metadata.db')}`);
    try {
      const embedded = openOnlineStore(undefined, metadata.db);
      assert.ok(embedded instanceof SqlOnlineStore);
      await embedded.upsert(FS, 'v1', 'airport', [row('JFK', '2024-01-01T00:00:00Z', { x: 1 })]);
      await embedded.close();
      // close() left the borrowed metadata db open, and the row is in its table.
      assert.equal((await metadata.db.selectFrom('online_features').select('entity_key').execute()).length, 1);

      const remote = openOnlineStore(redis!.url, metadata.db);
      try {
        assert.ok(remote instanceof RedisOnlineStore);
        assert.equal(await remote.get(FS, 'v1', 'airport', 'JFK'), undefined);
      } finally {
        await remote.close();
      }

      assert.throws(() => openOnlineStore('postgres://127.0.0.1/features', metadata.db), /expected a redis:\/\/ URL/);
    } finally {
      await metadata.close();
    }
  });
});
