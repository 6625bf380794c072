import fs from 'node:fs/promises';
import path from 'node:path';
import type { ArtifactStore } from '../data/artifact-store';
import { ModelArtifactSchema, type ModelArtifact } from '../ml/model-artifact';
import type { ModelRegistryRepository, ModelVersion } from '../store/model-registry';
import { formatZodError } from '../validation';
import { HttpError } from './errors';
import type { PredictRequest } from './request-schema';
import type { ServedModel } from './served-models';

export interface LoadedModel {
  version: ModelVersion;
  artifact: ModelArtifact;
}

/**
 * Finds the registry version a request asks for and its parsed artifact. The registry is asked on
 * every request, so a promotion or a rollback takes effect at the next one; artifacts are cached by
 * (model, version), since a registered version's artifact never changes.
 */
export class ModelLoader {
  private readonly artifactsByVersion = new Map<string, Promise<ModelArtifact>>();

  constructor(
    private readonly registry: ModelRegistryRepository,
    private readonly artifacts: ArtifactStore,
  ) {}

  async load(served: ServedModel, request: Pick<PredictRequest, 'stage' | 'version'>): Promise<LoadedModel> {
    const name = served.model.name;
    // Asked for by number, a version is served whatever its stage (the skew check asks for the staging one).
    const version =
      request.version !== undefined
        ? await this.registry.get(name, request.version)
        : await this.registry.inStage(name, request.stage);
    if (!version) {
      throw new HttpError(
        404,
        request.version !== undefined
          ? `${name} has no version ${request.version}`
          : `no ${request.stage} version of ${name}`,
      );
    }
    return { version, artifact: await this.artifact(served, version) };
  }

  private artifact(served: ServedModel, version: ModelVersion): Promise<ModelArtifact> {
    const key = `${version.modelName}@${version.version}`;
    let cached = this.artifactsByVersion.get(key);
    if (!cached) {
      cached = readArtifact(this.artifacts, served, version);
      this.artifactsByVersion.set(key, cached);
      // A failed read (a file not there yet, a transient I/O error) is retried by the next request.
      cached.catch(() => this.artifactsByVersion.delete(key));
    }
    return cached;
  }
}

/**
 * Parses `model.json` and checks it was trained on the features this server computes: a model of
 * another feature-set version, or with other features, would be fed inputs it never learned from.
 */
async function readArtifact(
  artifacts: ArtifactStore,
  served: ServedModel,
  version: ModelVersion,
): Promise<ModelArtifact> {
  const what = `${version.modelName} version ${version.version}`;
  const file = path.join(artifacts.resolve(version.artifactUri), 'model.json');
  const parsed = ModelArtifactSchema.safeParse(JSON.parse(await fs.readFile(file, 'utf8')));
  if (!parsed.success) throw new Error(`${what}: invalid artifact ${file}: ${formatZodError(parsed.error)}`);
  const artifact = parsed.data;
  if (artifact.featureSetVersion !== served.featureSet.version) {
    throw new Error(
      `${what} was trained on feature set ${served.featureSet.name} version ${artifact.featureSetVersion}; this server computes version ${served.featureSet.version}`,
    );
  }
  const expected = served.transforms.map((t) => t.name);
  if (artifact.features.join(',') !== expected.join(',')) {
    throw new Error(
      `${what} takes features [${artifact.features.join(', ')}]; the spec's model has [${expected.join(', ')}]`,
    );
  }
  return artifact;
}
