// The workflow bundle's entry point: only deterministic code is reachable from here (test/unit/workflow-imports.test.ts).
import type { DailyChain, DeliverySensor } from '../src/api/daily';
import type { FeatureBackfill, FeaturePipeline, FeatureRangePipeline, ScheduledFeatureRun } from '../src/api/features';
import type { IngestionPipeline } from '../src/api/ingestion';
import type { ModelRollback } from '../src/api/models';
import type { MonitoringPipeline, ScheduledMonitoringRun } from '../src/api/monitoring';
import type { ScoringPipeline } from '../src/api/scoring';
import type { TrainingPipeline } from '../src/api/training';
import { dailyChain, deliverySensor } from './daily';
import { featureBackfill, featurePipeline, featureRangePipeline, scheduledFeatureRun } from './features';
import { ingestionPipeline } from './ingestion';
import { modelRollback } from './models';
import { monitoringPipeline, scheduledMonitoringRun } from './monitoring';
import { scoringPipeline } from './scoring';
import { trainingPipeline } from './training';

export {
  dailyChain,
  deliverySensor,
  featureBackfill,
  featurePipeline,
  featureRangePipeline,
  ingestionPipeline,
  modelRollback,
  monitoringPipeline,
  scheduledFeatureRun,
  scheduledMonitoringRun,
  scoringPipeline,
  trainingPipeline,
};

/**
 * Clients start these workflows by name with the signatures of src/api (they never import this
 * folder): this keeps each workflow in step with the signature its callers use.
 */
export type Signatures = [
  Expect<typeof ingestionPipeline, IngestionPipeline>,
  Expect<typeof featurePipeline, FeaturePipeline>,
  Expect<typeof featureRangePipeline, FeatureRangePipeline>,
  Expect<typeof featureBackfill, FeatureBackfill>,
  Expect<typeof scheduledFeatureRun, ScheduledFeatureRun>,
  Expect<typeof trainingPipeline, TrainingPipeline>,
  Expect<typeof modelRollback, ModelRollback>,
  Expect<typeof monitoringPipeline, MonitoringPipeline>,
  Expect<typeof scheduledMonitoringRun, ScheduledMonitoringRun>,
  Expect<typeof dailyChain, DailyChain>,
  Expect<typeof deliverySensor, DeliverySensor>,
  Expect<typeof scoringPipeline, ScoringPipeline>,
];
type Expect<Actual extends Wanted, Wanted> = [Actual, Wanted];
