// The workflow bundle's entry point: only deterministic code is reachable from here.
export { ingestionPipeline } from './ingestion';
export { featurePipeline, featureBackfill, featureRangePipeline, scheduledFeatureRun } from './features';
export { trainingPipeline } from './training';
export { modelRollback } from './models';
export { monitoringPipeline, scheduledMonitoringRun } from './monitoring';
