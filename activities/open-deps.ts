import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../src/config';
import { openDuckDb } from '../src/data/duckdb';
import { artifactStoreFor } from '../src/data/open-artifact-store';
import { openOnlineStore } from '../src/features/online-store-factory';
import { openMetadataStore } from '../src/store/database';
import type { ActivityDeps } from './deps';

/**
 * Opens what activities (and the prediction server) are built from, one of each per process, as the
 * configuration says; `close` releases them, the online store first (it may sit on the metadata store).
 */
export async function openActivityDeps(
  config: Config,
  logger: Logger,
): Promise<{ deps: ActivityDeps; close(): Promise<void> }> {
  const artifacts = artifactStoreFor(config);
  await artifacts.check();
  const store = await openMetadataStore(config.databaseUrl);
  const duck = await openDuckDb({ tempDirectory: path.join(config.dataDir, 'duckdb-tmp') });
  const online = openOnlineStore(config.MLPIPE_ONLINE_STORE_URL, store.db);
  return {
    deps: { config, logger, duck, store, online, artifacts },
    close: async () => {
      await online.close();
      await store.close();
      duck.closeSync();
      artifacts.close();
    },
  };
}
