import * as z from 'zod/mini';
import { day } from './day';

export const MonitoringInputSchema = z.object({
  spec: z.string().check(z.minLength(1), z.maxLength(100)),
  from: day,
  to: day,
});
export type MonitoringInput = z.infer<typeof MonitoringInputSchema>;

/** What the run found and did; the report has the details. */
export interface MonitoringResult {
  modelName: string;
  version: number;
  reportUri: string;
  datasetDrift: boolean;
  driftedFeatures: string[];
  degraded: boolean;
  /** Model segments whose AUC fell beyond the spec's segment bound (absent in runs from before segments were judged). */
  degradedSegments?: string[];
  retraining: { started: boolean; workflowId?: string; why: string };
}

export const ScheduledMonitoringSchema = z.object({
  spec: z.string().check(z.minLength(1), z.maxLength(100)),
  model: z.string().check(z.regex(/^[a-z][a-z0-9-]*$/)),
  /** The window: this many days, ending `lagDays` before the scheduled time (labels need time to land). */
  windowDays: z.number().check(z.int(), z.minimum(1), z.maximum(366)),
  lagDays: z.number().check(z.int(), z.minimum(0), z.maximum(30)),
});
export type ScheduledMonitoringInput = z.infer<typeof ScheduledMonitoringSchema>;

export function monitoringWorkflowId(model: string, from: string, to: string): string {
  return `monitoring/${model}/${from}_${to}`;
}

export function retrainWorkflowId(model: string, from: string, to: string): string {
  return `retrain/${model}/${from}_${to}`;
}

/** The visibility query for a model's retraining runs still running (model names are [a-z0-9-]). */
export function runningRetrainingsQuery(model: string): string {
  return `WorkflowId STARTS_WITH 'retrain/${model}/' AND ExecutionStatus = 'Running'`;
}

export type MonitoringPipeline = (input: MonitoringInput) => Promise<MonitoringResult>;
export type ScheduledMonitoringRun = (input: ScheduledMonitoringInput) => Promise<MonitoringResult>;
