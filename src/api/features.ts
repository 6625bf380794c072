import * as z from 'zod/mini';
import { day } from './day';

export const FeaturePipelineInputSchema = z.object({
  spec: z.string().check(z.minLength(1), z.maxLength(100)),
  /** `<name>@<version>`, for ids and search attributes; the activities take the definition from the spec. */
  featureSet: z.string().check(z.minLength(1), z.maxLength(100)),
  partition: day,
  /** An `artifact:` dataset URI; default: the contract's latest published batch. */
  inputUri: z.optional(z.string().check(z.maxLength(1000))),
});
export type FeaturePipelineInput = z.infer<typeof FeaturePipelineInputSchema>;

/** Days one featureRangePipeline computes at most: its rows are one DuckDB table, and a failed run redoes them all. */
export const MAX_DAYS_PER_RUN = 62;

export const FeatureRangeInputSchema = z.object({
  spec: z.string().check(z.minLength(1), z.maxLength(100)),
  featureSet: z.string().check(z.minLength(1), z.maxLength(100)),
  days: z.array(day).check(z.minLength(1), z.maxLength(MAX_DAYS_PER_RUN)),
  inputUri: z.optional(z.string().check(z.maxLength(1000))),
});
export type FeatureRangeInput = z.infer<typeof FeatureRangeInputSchema>;

/** Per day of a range: its rows once published, or why it was refused (the failure its own run would have had). */
export interface FeatureRangeResult {
  days: ({ day: string; rows: number } | { day: string; failed: string })[];
}

export const BackfillInputSchema = z.object({
  spec: z.string().check(z.minLength(1), z.maxLength(100)),
  featureSet: z.string().check(z.minLength(1), z.maxLength(100)),
  from: day,
  to: day,
  maxConcurrency: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(32))),
  /** Days computed by one run (featureRangePipeline); 1 (the default): one featurePipeline per day. */
  daysPerRun: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(MAX_DAYS_PER_RUN))),
  inputUri: z.optional(z.string().check(z.maxLength(1000))),
});
export type BackfillInput = z.infer<typeof BackfillInputSchema>;

export interface FeaturePipelineResult {
  partition: string;
  rows: number;
  offlineUri: string;
  offlineHash: string;
  onlineValidFrom: string;
  onlineWritten: Record<string, number>;
  warnings: number;
}

export interface BackfillResult {
  total: number;
  alreadyDone: number;
  computed: number;
}

export const ScheduledRunInputSchema = z.object({
  spec: z.string().check(z.minLength(1), z.maxLength(100)),
  featureSet: z.string().check(z.minLength(1), z.maxLength(100)),
  /** Compute the partition this many days before the scheduled time (1: yesterday). */
  lagDays: z.number().check(z.int(), z.minimum(0), z.maximum(30)),
  /** The feature set's SLA: the partition published by this UTC time (HH:MM) of the day after it. */
  publishedByUtc: z.optional(z.string().check(z.regex(/^([01]\d|2[0-3]):[0-5]\d$/))),
});
export type ScheduledRunInput = z.infer<typeof ScheduledRunInputSchema>;

/** The workflow id of one partition: the same partition never runs twice at once. */
export function featurePartitionWorkflowId(featureSet: string, partition: string): string {
  return `features/${featureSet}/${partition}`;
}

/** The workflow id of a range of partitions computed together (a backfill's run of days). */
export function featureRangeWorkflowId(featureSet: string, from: string, to: string): string {
  return `features/${featureSet}/${from}_${to}`;
}

export type FeaturePipeline = (input: FeaturePipelineInput) => Promise<FeaturePipelineResult>;
export type FeatureRangePipeline = (input: FeatureRangeInput) => Promise<FeatureRangeResult>;
export type FeatureBackfill = (input: BackfillInput) => Promise<BackfillResult>;
export type ScheduledFeatureRun = (input: ScheduledRunInput) => Promise<FeaturePipelineResult>;
