import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../src/config';
import type { ArtifactKey, ArtifactStore } from '../../src/data/artifact-store';
import { ObjectStore } from '../../src/data/object-store';
import { parseS3Url } from '../../src/data/s3-url';

/** Publishes hand-made files as an artifact, the way a pipeline step would; returns its URI. */
export async function publishFixture(
  artifacts: ArtifactStore,
  key: ArtifactKey,
  files: Record<string, string | Buffer>,
): Promise<string> {
  const staging = artifacts.stagingDir(key);
  await fs.rm(staging, { recursive: true, force: true });
  await fs.mkdir(staging, { recursive: true });
  for (const [name, content] of Object.entries(files)) await fs.writeFile(path.join(staging, name), content);
  await artifacts.publish(key);
  return artifacts.uri(key);
}

/** The key a test's hand-registered model version keeps its files under. */
export const fixtureModelKey = (model: string, key: string): ArtifactKey => ({
  kind: 'models',
  name: model,
  version: key,
  partition: 'artifact',
});

/**
 * Makes every published artifact of a kind unreadable, as a lost mount or a wiped bucket prefix would:
 * locally its folder moves away, in an object store its manifests go. Returns the undo.
 */
export async function hideArtifacts(config: Config, kind: ArtifactKey['kind']): Promise<() => Promise<void>> {
  if (!config.MLPIPE_ARTIFACTS_URL) {
    const dir = path.join(config.dataDir, 'artifacts', kind);
    await fs.rename(dir, `${dir}.away`);
    return () => fs.rename(`${dir}.away`, dir);
  }
  const remote = new ObjectStore({
    ...parseS3Url(config.MLPIPE_ARTIFACTS_URL),
    endpoint: config.MLPIPE_S3_ENDPOINT,
    region: config.AWS_REGION,
  });
  const manifests = (await remote.list(`${kind}/`)).filter((o) => o.key.endsWith('/MANIFEST.json'));
  const saved = await Promise.all(
    manifests.map(async (o) => [o.key, (await remote.getText(`${kind}/${o.key}`))!.text]),
  );
  await remote.delete(manifests.map((o) => `${kind}/${o.key}`));
  return async () => {
    for (const [key, text] of saved) await remote.putText(`${kind}/${key}`, text!);
    remote.close();
  };
}
