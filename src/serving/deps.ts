import type { DuckDBInstance } from '@duckdb/node-api';
import type { Logger } from 'pino';
import type { ArtifactStore } from '../data/artifact-store';
import type { OnlineStore } from '../features/online-store';
import type { MetadataStore } from '../store/database';

/**
 * What the prediction server is built from. The caller opens and closes them: the CLI for
 * `mlpipe serve`, the worker's activity dependencies for the staging skew check.
 */
export interface ServingDeps {
  logger: Logger;
  /** The model registry, and the prediction log every answer is written to. */
  store: MetadataStore;
  online: OnlineStore;
  /** Evaluates event features and entity keys with the offline store's SQL. */
  duck: DuckDBInstance;
  /** Where registered models' `model.json` files live. */
  artifacts: ArtifactStore;
}
