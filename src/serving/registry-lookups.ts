import type { ModelRegistryRepository, ModelVersion } from '../store/model-registry';
import type { ModelStage } from '../store/tables';
import { Batcher } from './batcher';

/** What a request asks the registry for: a version by number, else the one in a stage. */
export type VersionLookup = { modelName: string } & ({ version: number } | { stage: ModelStage });

/** Lookups per run: requests read in one turn of the event loop, at most. */
const MAX_LOOKUPS_PER_RUN = 64;

/**
 * Registry lookups of the requests read in the same turn of the event loop, the same lookup asked
 * once for all of them (Batcher). Each request's lookup still reads the registry after the request
 * arrived, so a promotion or a rollback committed before it is what it sees: nothing is cached
 * between runs.
 */
export class RegistryLookups {
  private readonly batcher: Batcher<VersionLookup, ModelVersion | undefined>;

  constructor(registry: ModelRegistryRepository) {
    this.batcher = new Batcher(
      (lookups) => {
        const answers = new Map<string, Promise<ModelVersion | undefined>>();
        return Promise.all(
          lookups.map((l) => {
            const key = JSON.stringify(l);
            let answer = answers.get(key);
            if (!answer) {
              answer = 'version' in l ? registry.get(l.modelName, l.version) : registry.inStage(l.modelName, l.stage);
              answers.set(key, answer);
            }
            return answer;
          }),
        );
      },
      { maxItems: MAX_LOOKUPS_PER_RUN, retryAlone: true },
    );
  }

  find(lookup: VersionLookup): Promise<ModelVersion | undefined> {
    return this.batcher.submit(lookup);
  }
}
