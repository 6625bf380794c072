import * as z from 'zod/mini';
import { day } from './day';
import type { FeaturePipelineResult } from './features';
import type { IngestionResult } from './ingestion';
import type { MonitoringResult } from './monitoring';

/**
 * A day's chain for a daily dataset: ingest the night's delivery, then the features of that day (and
 * of later days that waited for it), then, when the spec watches a production model, its monitoring
 * on the day whose labels are in; one parent run per day.
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

/** What a day's monitoring step did: watched the production model on the day whose labels are in, or why not. */
export type DailyMonitoring =
  | {
      status: 'ran';
      from: string;
      to: string;
      result: Pick<MonitoringResult, 'reportUri' | 'datasetDrift' | 'degraded'>;
    }
  | { status: 'notYet' | 'none'; reason: string };

export interface DailyChainResult {
  day: string;
  ingestion: Pick<IngestionResult, 'rowsRead' | 'rowsAccepted' | 'rowsRejected' | 'warnings' | 'datasetUri'>;
  features: DailyFeatures;
  monitoring: DailyMonitoring;
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

/**
 * A warehouse table whose rows are the deliveries, a day of the event time each: a day with new or
 * changed rows since it was last chained is delivered again, e.g. postgresql://host/db?table=public.flights.
 */
export const WarehouseTableSchema = z.string().check(
  z.maxLength(2048),
  z.regex(
    /^postgres(ql)?:\/\/[^?]+\?(.*&)?table=[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?(&|$)/,
    'postgresql://.../db?table=<schema.table>',
  ),
  z.refine((uri) => !/[?&](day|dayColumn)=/.test(uri), 'the sensor picks the days: no day or dayColumn'),
);

/** Where a sensor looks: files under a pattern, or a warehouse table (one of the two). */
export const SensorInputSchema = z
  .object({
    spec: z.string().check(z.minLength(1), z.maxLength(100)),
    pattern: z.optional(DeliveryPatternSchema),
    table: z.optional(WarehouseTableSchema),
  })
  .check(
    z.refine(
      (s) => (s.pattern === undefined) !== (s.table === undefined),
      'a sensor watches a pattern or a table: one of the two',
    ),
  );
export type SensorInput = z.infer<typeof SensorInputSchema>;

export interface SensorResult {
  /** The deliveries this tick handed to chains, in day order: their day and file (or table day, its password redacted). */
  delivered: { day: string; sourceUri: string }[];
}

export type DeliverySensor = (input: SensorInput) => Promise<SensorResult>;

/** The Schedule that runs a spec's sensor; one per spec. */
export function sensorScheduleId(spec: string): string {
  return `sensor/${spec}`;
}
