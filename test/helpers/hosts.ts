import fs from 'node:fs';
import type { Config } from '../../src/config';
import type { ArtifactStore } from '../../src/data/artifact-store';
import { artifactStoreFor } from '../../src/data/open-artifact-store';

/**
 * With an object store, the environment of a worker run as another host would run it: a data
 * directory (scratch cache) of its own, sharing only Temporal, the metadata database and the object
 * store with the first. Locally there is one host: nothing changes.
 */
export function otherHostEnv(config: Config): Record<string, string> {
  return config.MLPIPE_ARTIFACTS_URL
    ? { MLPIPE_DATA_DIR: fs.mkdtempSync(`${config.dataDir}-other-host-`), MLPIPE_DATABASE_URL: config.databaseUrl }
    : {};
}

/**
 * The artifact store as a host that never ran the step sees it: with an object store, a scratch cache of
 * its own, so `restore` shows what a resuming worker would find; locally, the worker's own directory.
 */
export function observerStore(config: Config): ArtifactStore {
  return artifactStoreFor(
    config.MLPIPE_ARTIFACTS_URL ? { ...config, dataDir: fs.mkdtempSync(`${config.dataDir}-observer-`) } : config,
  );
}
