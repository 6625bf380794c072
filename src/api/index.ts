/**
 * The public API of temporal-ml-pipelines: what a project's spec and config files import
 * (`import { defineSpec } from 'temporal-ml-pipelines'`), and the names its own client code may rely on.
 * Nothing else of the package is public: its `exports` map refuses deeper imports.
 */
export {
  defineProject,
  defineSpec,
  type FeatureInput,
  type FeatureSetInput,
  type ModelSpecInput,
  type ProjectConfig,
  type SpecInput,
} from './spec';
export { ErrorTypes } from './errors';
export { FeatureSet, ModelName, Partition, PipelineKind, PipelineStage } from './search-attributes';
export type { IngestionInput, IngestionResult } from './ingestion';
export type { FeaturePipelineInput, FeaturePipelineResult, BackfillInput, BackfillResult } from './features';
export type { TrainingInput, TrainingResult } from './training';
export type { MonitoringInput, MonitoringResult } from './monitoring';
export type { ApprovalDecision, ApprovalView, DecideRequest } from './approval';
