/**
 * Where the time of a backfill with several days per run goes (bench/features.bench.ts): each
 * featureRangePipeline run's wall time, its two activities' run times, and the phases those activities
 * report in their results (activities/feature-range.ts: extract, write, check; offline, online, records),
 * summed over the backfill's runs, read from the server's histories.
 */
import type { Client } from '@temporalio/client';
import type { ComputedRange, PublishedRange } from '../activities/feature-range';
import { EventType, eventMs, fetchHistories, taskTimings, type HistoryEvent } from './harness';
import type { DetailTable } from './report';

export interface RangePhases {
  runs: number;
  /** Seconds summed over the runs, per row of `table`, by its label. */
  seconds: Record<string, number>;
  table: DetailTable;
}

/** The rows of the table: the activities in the order they run, each followed by the phases it reports. */
const ROW_ORDER = [
  'run wall time',
  'outside activities (workflow tasks, queues)',
  'computeFeatureRange',
  '  computeFeatureRange: extract',
  '  computeFeatureRange: write',
  '  computeFeatureRange: check',
  'publishFeatureRange',
  '  publishFeatureRange: offline',
  '  publishFeatureRange: online',
  '  publishFeatureRange: records',
];

function childIds(parent: HistoryEvent[]): string[] {
  return parent
    .filter((e) => e.eventType === EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED)
    .map((e) => e.childWorkflowExecutionStartedEventAttributes!.workflowExecution!.workflowId!);
}

export async function rangePhases(client: Client, backfillWorkflowId: string): Promise<RangePhases> {
  const [parent] = await fetchHistories(client, [{ workflowId: backfillWorkflowId }]);
  const runs = await fetchHistories(
    client,
    childIds(parent!).map((workflowId) => ({ workflowId })),
  );
  const seconds: Record<string, number> = {};
  const add = (label: string, s: number) => (seconds[label] = (seconds[label] ?? 0) + s);
  for (const events of runs) {
    const started = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)!;
    const closed = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    if (!closed) throw new Error(`a featureRangePipeline run of ${backfillWorkflowId} did not complete`);
    const timings = taskTimings(events);
    add('run wall time', (eventMs(closed) - eventMs(started)) / 1000);
    add(
      'outside activities (workflow tasks, queues)',
      (eventMs(closed) - eventMs(started) - timings.activityMs) / 1000,
    );
    for (const a of timings.activities) {
      add(a.type, a.runMs / 1000);
      const phases =
        a.type === 'computeFeatureRange'
          ? (a.result as ComputedRange | undefined)?.seconds
          : a.type === 'publishFeatureRange'
            ? (a.result as PublishedRange | undefined)?.seconds
            : undefined;
      for (const [phase, s] of Object.entries(phases ?? {})) add(`  ${a.type}: ${phase}`, s);
    }
  }
  const wall = seconds['run wall time'] ?? 0;
  const order = ROW_ORDER.filter((k) => seconds[k] !== undefined);
  return {
    runs: runs.length,
    seconds,
    table: {
      title: 'Where the time of a range run goes',
      columns: ['part', 'seconds (sum over runs)', 'share of run wall time'],
      rows: order.map((k) => [k, Number(seconds[k]!.toFixed(2)), `${((100 * seconds[k]!) / wall).toFixed(1)}%`]),
      note:
        `Summed over the ${runs.length} featureRangePipeline runs, from their histories: each run's wall time, its activities' run times ` +
        'and the phases they report (activities/feature-range.ts). computeFeatureRange: extract = the window of input rows to one ' +
        "Parquet file; write = every day's rows by one statement (each input row aggregated once per day whose window holds it) " +
        "and one sorted COPY per day; check = every day's statistics and its drift against the day before (deciles, bins, PSI) " +
        'and the input checks. publishFeatureRange: offline = each day published as its own partition; online = the snapshot the ' +
        'days leave, upserted; records = the registry rows.',
    },
  };
}
