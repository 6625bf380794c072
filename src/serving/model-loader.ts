import fs from 'node:fs/promises';
import path from 'node:path';
import type { ArtifactStore } from '../data/artifact-store';
import { openScorer, type Scorer } from '../ml/scorer';
import { ModelArtifactSchema, type ModelArtifact } from '../ml/model-artifact';
import type { ModelRegistryRepository, ModelVersion } from '../store/model-registry';
import { formatZodError } from '../validation';
import { HttpError } from './errors';
import { RegistryLookups } from './registry-lookups';
import type { PredictRequest } from './request-schema';
import type { ServedModel } from './served-models';

export interface LoadedModel {
  version: ModelVersion;
  artifact: ModelArtifact;
  scorer: Scorer;
}

type Model = Pick<LoadedModel, 'artifact' | 'scorer'>;

/**
 * Finds the registry version a request asks for, its parsed artifact and its scorer. The registry is
 * asked on every request (RegistryLookups), so a promotion or a rollback takes effect at the next one;
 * models are cached by (model, version), since a registered version's files never change.
 */
export class ModelLoader {
  private readonly modelsByVersion = new Map<string, Promise<Model>>();
  private readonly registry: RegistryLookups;

  constructor(
    registry: ModelRegistryRepository,
    private readonly artifacts: ArtifactStore,
  ) {
    this.registry = new RegistryLookups(registry);
  }

  async load(served: ServedModel, request: Pick<PredictRequest, 'stage' | 'version'>): Promise<LoadedModel> {
    const name = served.model.name;
    // Asked for by number, a version is served whatever its stage (the skew check asks for the staging one).
    const version = await this.registry.find(
      request.version !== undefined
        ? { modelName: name, version: request.version }
        : { modelName: name, stage: request.stage },
    );
    if (!version) {
      throw new HttpError(
        404,
        request.version !== undefined
          ? `${name} has no version ${request.version}`
          : `no ${request.stage} version of ${name}`,
      );
    }
    return { version, ...(await this.model(served, version)) };
  }

  private model(served: ServedModel, version: ModelVersion): Promise<Model> {
    const key = `${version.modelName}@${version.version}`;
    let cached = this.modelsByVersion.get(key);
    if (!cached) {
      cached = readModel(this.artifacts, served, version);
      this.modelsByVersion.set(key, cached);
      // A failed read (a file not there yet, a transient I/O error) is retried by the next request.
      cached.catch(() => this.modelsByVersion.delete(key));
    }
    return cached;
  }

  /** Frees the cached models' scorers (ONNX sessions). */
  async close(): Promise<void> {
    const models = await Promise.allSettled(this.modelsByVersion.values());
    this.modelsByVersion.clear();
    for (const m of models) if (m.status === 'fulfilled') await m.value.scorer.close();
  }
}

/**
 * Parses `model.json`, checks it was trained on the features this server computes (a model of
 * another feature-set version, or with other features, would be fed inputs it never learned from),
 * and opens its scorer.
 */
async function readModel(artifacts: ArtifactStore, served: ServedModel, version: ModelVersion): Promise<Model> {
  const what = `${version.modelName} version ${version.version}`;
  const dir = await artifacts.open(version.artifactUri);
  const file = path.join(dir, 'model.json');
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
  return { artifact, scorer: await openScorer(artifact, dir) };
}
