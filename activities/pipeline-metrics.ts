import { Context } from '@temporalio/activity';
import type { ColumnDriftResult } from '../src/stats/column-drift';

/**
 * The pipelines' own metrics, exported beside the SDK's (task latencies, slots, pollers) on the
 * worker's Prometheus endpoint (MLPIPE_METRICS_ADDRESS); the SDK adds its tags (namespace, task queue,
 * activity type). Without an endpoint they go nowhere and cost next to nothing.
 */
const meter = () => Context.current().metricMeter;

/** Rows of a published batch, read = accepted + rejected (counters: rate() gives rows per interval). */
export function recordBatchRows(
  contract: string,
  stats: { rowsRead: number; rowsAccepted: number; rowsRejected: number },
): void {
  const m = meter();
  const tags = { contract };
  m.createCounter('mlpipe_rows_read', 'rows', 'Rows read by ingestion, counted when their batch is published').add(
    stats.rowsRead,
    tags,
  );
  m.createCounter('mlpipe_rows_accepted', 'rows', 'Rows published to the dataset').add(stats.rowsAccepted, tags);
  m.createCounter('mlpipe_rows_rejected', 'rows', 'Rows sent to dead letters, each with its reason').add(
    stats.rowsRejected,
    tags,
  );
}

/** One checkpointed chunk of an ingestion: progress an operator can watch while the batch runs. */
export function recordChunk(contract: string, rows: number): void {
  const m = meter();
  m.createCounter('mlpipe_ingest_chunks', 'chunks', 'Chunks ingested and checkpointed').add(1, { contract });
  m.createCounter('mlpipe_ingest_chunk_rows', 'rows', 'Rows of the chunks ingested so far').add(rows, { contract });
}

/** The quality gates a batch failed (warnings too), by gate and severity. */
export function recordGateFailures(contract: string, failed: { gate: string; severity: string }[]): void {
  const counter = meter().createCounter('mlpipe_gate_failures', 'checks', 'Quality-gate checks that failed');
  for (const f of failed) counter.add(1, { contract, gate: f.gate, severity: f.severity });
}

/** How far behind the newest published day partition is: hours from that day's end to now. */
export function recordPartitionLag(dataset: string, day: string): void {
  const hours = (Date.now() - (Date.parse(`${day}T00:00:00Z`) + 86_400_000)) / 3_600_000;
  meter()
    .createGauge('mlpipe_partition_lag_hours', 'float', 'h', 'Hours since the end of the newest published day')
    .set(hours, { dataset });
}

/** Each model input's drift statistic in the latest monitoring window, and whether it drifted. */
export function recordDrift(model: string, columns: ColumnDriftResult[]): void {
  const m = meter();
  const statistic = m.createGauge('mlpipe_drift_statistic', 'float', '', 'Drift statistic of the latest window');
  const drifted = m.createGauge('mlpipe_drift_detected', 'int', '', '1 when the column drifted in the latest window');
  for (const c of columns) {
    const tags = { model, feature: c.column, method: c.method };
    statistic.set(c.statistic, tags);
    drifted.set(c.drifted ? 1 : 0, tags);
  }
}
