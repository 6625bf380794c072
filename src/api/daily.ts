import * as z from 'zod/mini';
import { day } from './day';
import type { FeaturePipelineResult } from './features';
import type { IngestionResult } from './ingestion';

/**
 * A day's chain for a daily dataset: ingest the night's delivery, then the features of that day (and
 * of later days that waited for it), one parent run per day.
 */
export const DailyChainInputSchema = z.object({
  spec: z.string().check(z.minLength(1), z.maxLength(100)),
  day,
  sourceUri: z.string().check(z.minLength(1), z.maxLength(2048)),
  /** ISO time the freshness gate measures against; defaults to the ingestion's start. */
  asOf: z.optional(z.iso.datetime()),
});
export type DailyChainInput = z.infer<typeof DailyChainInputSchema>;

/** What a day's feature step did: computed, or not yet (the feed is younger than the windows). */
export type DailyFeatures =
  | { status: 'computed'; partitions: Pick<FeaturePipelineResult, 'partition' | 'rows' | 'warnings'>[] }
  | { status: 'notYet'; reason: string }
  | { status: 'none'; reason: string };

export interface DailyChainResult {
  day: string;
  ingestion: Pick<IngestionResult, 'rowsRead' | 'rowsAccepted' | 'rowsRejected' | 'warnings' | 'datasetUri'>;
  features: DailyFeatures;
}

export type DailyChain = (input: DailyChainInput) => Promise<DailyChainResult>;

export function dailyChainWorkflowId(spec: string, day: string): string {
  return `daily/${spec}/${day}`;
}

/**
 * Where a sensor looks: a path inside the data directory whose file name holds `{day}` (the delivery's
 * day, YYYY-MM-DD) and may hold `*`, e.g. `incoming/flights-{day}.parquet`.
 */
export const DeliveryPatternSchema = z.string().check(
  z.maxLength(500),
  z.regex(
    /^(?!\/)(?!.*(^|\/)\.\.(\/|$))[^*{}]*[^/]*\{day\}[^/]*$/,
    'a path inside the data directory whose file name holds {day}, e.g. incoming/flights-{day}.parquet (no * or {} in folders, no ..)',
  ),
  z.refine((p) => p.split('{day}').length === 2, '{day} once'),
);

export const SensorInputSchema = z.object({
  spec: z.string().check(z.minLength(1), z.maxLength(100)),
  pattern: DeliveryPatternSchema,
});
export type SensorInput = z.infer<typeof SensorInputSchema>;

export interface SensorResult {
  /** The deliveries this tick handed to chains, in day order: their day and file. */
  delivered: { day: string; sourceUri: string }[];
}

export type DeliverySensor = (input: SensorInput) => Promise<SensorResult>;

/** The Schedule that runs a spec's sensor; one per spec. */
export function sensorScheduleId(spec: string): string {
  return `sensor/${spec}`;
}
