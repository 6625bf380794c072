import path from 'node:path';
import type { Config } from '../config';
import { ArtifactStore } from './artifact-store';
import { ObjectStore } from './object-store';
import { parseS3Url } from './s3-url';

/** The artifact store the configuration names: the data directory's, or an object store's. */
export function artifactStoreFor(config: Config): ArtifactStore {
  if (!config.MLPIPE_ARTIFACTS_URL) return ArtifactStore.local(config.dataDir);
  const remote = new ObjectStore({
    ...parseS3Url(config.MLPIPE_ARTIFACTS_URL),
    endpoint: config.MLPIPE_S3_ENDPOINT,
    region: config.AWS_REGION,
  });
  return new ArtifactStore(path.join(config.dataDir, 'artifact-cache'), remote);
}
