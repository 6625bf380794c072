import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DuckDBInstance } from '@duckdb/node-api';
import { artifactStoreFor } from '../../src/data/open-artifact-store';
import { openDuckDb } from '../../src/data/duckdb';
import type { OnlineStore } from '../../src/features/online-store';
import { openOnlineStore } from '../../src/features/online-store-factory';
import { createLogger } from '../../src/logger';
import { startServing, type RunningServer } from '../../src/serving/server';
import { openMetadataStore, type MetadataStore } from '../../src/store/database';
import { checkPredictionLog, loadBody, prepareServingData, runLoad, sendOversized } from '../helpers/serving-load';
import { testConfig } from '../helpers/temporal';

const REQUESTS = 300;
const CONCURRENCY = 8;
const OVERSIZED = 12;

describe('prediction server under load', () => {
  let store: MetadataStore;
  let online: OnlineStore;
  let duck: DuckDBInstance;
  let server: RunningServer;

  before(async () => {
    const config = testConfig();
    store = await openMetadataStore(config.databaseUrl);
    online = openOnlineStore(config.MLPIPE_ONLINE_STORE_URL, store.db);
    duck = await openDuckDb();
    const artifacts = artifactStoreFor(config);
    await prepareServingData(store, online, artifacts);
    server = await startServing(
      { logger: createLogger('silent'), store, online, duck, artifacts },
      { host: '127.0.0.1', port: 0 },
    );
  });

  after(async () => {
    await server?.close();
    await online?.close();
    await store?.close();
    duck?.closeSync();
  });

  test(`${REQUESTS} requests, ${CONCURRENCY} at a time, with oversized bodies among them: all answered, each prediction logged once`, async () => {
    const url = `${server.url}/predict`;
    // Requests of 1 to 10 rows; the oversized bodies are sent while the load runs.
    const rowsOf = (i: number) => 1 + (i % 10);
    const [load, oversized] = await Promise.all([
      runLoad({
        url,
        requests: REQUESTS,
        concurrency: CONCURRENCY,
        timeLimitMs: 25_000,
        body: (i) => loadBody('load', i, rowsOf(i)),
      }),
      sendOversized(url, 'big', OVERSIZED),
    ]);

    assert.equal(load.sent, REQUESTS, `only ${load.sent} requests were sent within the time limit`);
    assert.deepEqual(load.errorKinds, {});
    assert.equal(load.ok, REQUESTS);
    const expectedPredictions = Array.from({ length: REQUESTS }, (_, i) => rowsOf(i)).reduce((a, b) => a + b, 0);
    assert.equal(load.predictions, expectedPredictions);
    assert.equal(load.served.size, REQUESTS, 'every answer carries its own requestId');

    assert.deepEqual(oversized, new Array(OVERSIZED).fill(413));

    const log = await checkPredictionLog(store, 'load', load.served);
    assert.deepEqual(
      { lost: log.lost, duplicated: log.duplicated, unexpected: log.unexpected },
      { lost: [], duplicated: [], unexpected: [] },
    );
    assert.equal(log.logged, load.predictions);
    assert.equal((await checkPredictionLog(store, 'big', new Map())).logged, 0, 'an oversized body logs nothing');
  });
});
