import { createAlertActivities } from './alerts';
import { createDailyActivities } from './daily';
import type { ActivityDeps } from './deps';
import { createFeatureActivities } from './features';
import { createFeatureRangeActivities } from './feature-range';
import { createIngestActivities } from './ingest';
import { createModelRegistryActivities } from './model-registry';
import { createMonitoringActivities } from './monitoring';
import { createProbeActivities } from './probe';
import { createServingCheckActivities } from './serving-check';
import { createTrainingDataActivities } from './training-data';
import { createTrainingModelActivities } from './training-model';
import { createPublishActivities } from './publish';
import { createQualityActivities } from './quality';
import { createScoringActivities } from './scoring';

/** Every activity the worker registers, built from the worker's shared dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createIngestActivities(deps),
    ...createQualityActivities(deps),
    ...createPublishActivities(deps),
    ...createAlertActivities(deps),
    ...createFeatureActivities(deps),
    ...createFeatureRangeActivities(deps),
    ...createTrainingDataActivities(deps),
    ...createTrainingModelActivities(deps),
    ...createModelRegistryActivities(deps),
    ...createServingCheckActivities(deps),
    ...createMonitoringActivities(deps),
    ...createProbeActivities(deps),
    ...createDailyActivities(deps),
    ...createScoringActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps };
