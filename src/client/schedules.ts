import { ScheduleOverlapPolicy, type Client, type ScheduleDescription, type ScheduleSummary } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { z } from 'zod';
import type { Config } from '../config';
import type { Duration } from '@temporalio/common';
import { FeatureSet, PipelineKind } from '../api/search-attributes';
import type { ScheduledFeatureRun } from '../api/features';
import type { ScheduledMonitoringRun } from '../api/monitoring';
import { DeliveryPatternSchema, sensorScheduleId, WarehouseTableSchema, type DeliverySensor } from '../api/daily';
import { redactUri } from '../data/redact-uri';
import { dailySpecOf } from './daily';
import { ModelName } from '../api/search-attributes';
import { monitoredSpecOf } from './monitoring';
import { featureSetOf } from './features';
import { InvalidRequestError, parseRequest } from './request';

export const CreateScheduleSchema = z.object({
  spec: z.string().min(1),
  kind: z.enum(['features', 'monitoring', 'sensor']).default('features'),
  /** Sensor: where the deliveries arrive, e.g. incoming/flights-{day}.parquet ... */
  pattern: z.optional(DeliveryPatternSchema),
  /** ... or the warehouse table whose days are the deliveries. */
  table: z.optional(WarehouseTableSchema),
  /** Monitoring: the window length in days. */
  windowDays: z.coerce.number().int().min(1).max(366).default(7),
  cron: z.string().min(9).max(100).default('0 2 * * *'),
  /** How far back a schedule catches up missed runs after an outage, e.g. 1d, 12h. */
  catchup: z
    .string()
    .regex(/^\d+[smhd]$/, 'a duration like 30m, 12h or 1d')
    .default('1d'),
  lagDays: z.coerce.number().int().min(0).max(30).default(1),
  paused: z.boolean().default(false),
  taskQueue: z.string().min(1).optional(),
});

export function featureScheduleId(label: string): string {
  return `features/${label}`;
}

/**
 * A Temporal Schedule for the daily feature partition: no cron box needed. Overlap SKIP (a slow run
 * is never doubled), a catch-up window for outages.
 */
export async function createSchedule(
  client: Client,
  config: Config,
  request: z.input<typeof CreateScheduleSchema>,
): Promise<string> {
  const r = parseRequest(CreateScheduleSchema, request);
  if (r.kind === 'monitoring') return createMonitoringSchedule(client, config, r);
  if (r.kind === 'sensor') return createSensorSchedule(client, config, r);
  const { spec, label } = featureSetOf(r.spec);
  return createPipelineSchedule(client, config, r, {
    scheduleId: featureScheduleId(label),
    workflowType: 'scheduledFeatureRun',
    workflowId: `scheduled/${label}`,
    args: [
      {
        spec: spec.name,
        featureSet: label,
        lagDays: r.lagDays,
        ...(spec.featureSet?.sla ? { publishedByUtc: spec.featureSet.sla.publishedByUtc } : {}),
      },
    ] as Parameters<ScheduledFeatureRun>,
    searchAttributes: [
      { key: PipelineKind, value: 'features' },
      { key: FeatureSet, value: label },
    ],
    summary: `Scheduled features ${label}`,
  });
}

/**
 * A Temporal Schedule for recurring monitoring: each run watches the last `windowDays` days that ended
 * `lagDays` before its scheduled time. Overlap SKIP and a catch-up window, as for features.
 */
async function createMonitoringSchedule(
  client: Client,
  config: Config,
  r: z.output<typeof CreateScheduleSchema>,
): Promise<string> {
  const spec = monitoredSpecOf(r.spec);
  return createPipelineSchedule(client, config, r, {
    scheduleId: `monitoring/${spec.model.name}`,
    workflowType: 'scheduledMonitoringRun',
    workflowId: `scheduled/monitoring/${spec.model.name}`,
    args: [
      { spec: spec.name, model: spec.model.name, windowDays: r.windowDays, lagDays: r.lagDays },
    ] as Parameters<ScheduledMonitoringRun>,
    searchAttributes: [
      { key: PipelineKind, value: 'monitoring' },
      { key: ModelName, value: spec.model.name },
    ],
    summary: `Scheduled monitoring ${spec.model.name}`,
  });
}

/**
 * A sensor: each run looks for new deliveries under the pattern and hands each to its day's chain
 * (`deliverySensor`). Overlap SKIP: a look still chaining a backlog is never run twice at once.
 */
async function createSensorSchedule(
  client: Client,
  config: Config,
  r: z.output<typeof CreateScheduleSchema>,
): Promise<string> {
  if ((r.pattern === undefined) === (r.table === undefined))
    throw new InvalidRequestError('pattern: a sensor watches --pattern or --table: one of the two');
  const spec = dailySpecOf(r.spec);
  return createPipelineSchedule(client, config, r, {
    scheduleId: sensorScheduleId(spec.name),
    workflowType: 'deliverySensor',
    workflowId: `sensor/${spec.name}`,
    args: [{ spec: spec.name, pattern: r.pattern, table: r.table }] as Parameters<DeliverySensor>,
    searchAttributes: [{ key: PipelineKind, value: 'sensor' }],
    summary: `Sensor ${spec.name}: ${r.pattern ?? redactUri(r.table!)}`.slice(0, 200),
  });
}

/** What differs between the kinds of schedule; cron, task queue, overlap, catch-up and pause are the request's. */
interface ScheduledAction {
  scheduleId: string;
  workflowType: string;
  workflowId: string;
  args: unknown[];
  searchAttributes: SearchAttributePair[];
  summary: string;
}

async function createPipelineSchedule(
  client: Client,
  config: Config,
  r: z.output<typeof CreateScheduleSchema>,
  a: ScheduledAction,
): Promise<string> {
  await client.schedule.create({
    scheduleId: a.scheduleId,
    spec: { cronExpressions: [r.cron] },
    action: {
      type: 'startWorkflow',
      workflowType: a.workflowType,
      workflowId: a.workflowId,
      taskQueue: r.taskQueue ?? config.TEMPORAL_TASK_QUEUE,
      args: a.args,
      typedSearchAttributes: a.searchAttributes,
      staticSummary: a.summary,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: r.catchup as Duration },
    state: { paused: r.paused, note: r.paused ? 'created paused' : undefined },
  });
  return a.scheduleId;
}

export async function listSchedules(client: Client): Promise<ScheduleSummary[]> {
  const out: ScheduleSummary[] = [];
  for await (const s of client.schedule.list()) out.push(s);
  return out.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

export async function describeSchedule(client: Client, id: string): Promise<ScheduleDescription> {
  return client.schedule.getHandle(id).describe();
}
