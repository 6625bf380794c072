import { createAlertActivities } from './alerts';
import type { ActivityDeps } from './deps';
import { createFeatureActivities } from './features';
import { createIngestActivities } from './ingest';
import { createPublishActivities } from './publish';
import { createQualityActivities } from './quality';

/** Every activity the worker registers, built from the worker's shared dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createIngestActivities(deps),
    ...createQualityActivities(deps),
    ...createPublishActivities(deps),
    ...createAlertActivities(deps),
    ...createFeatureActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps };
