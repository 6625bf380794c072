import type { Logger } from 'pino';
import type { DuckDBInstance } from '@duckdb/node-api';
import type { Config } from '../src/config';
import type { ArtifactStore } from '../src/data/artifact-store';
import type { MetadataStore } from '../src/store/database';
import type { OnlineStore } from '../src/features/online-store';

/** What activities are built from: one of each per worker process. */
export interface ActivityDeps {
  config: Config;
  logger: Logger;
  duck: DuckDBInstance;
  store: MetadataStore;
  artifacts: ArtifactStore;
  online: OnlineStore;
}
