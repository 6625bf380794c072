/**
 * The prediction server's Prometheus metrics, kept in memory and written in the text exposition format
 * at GET /metrics: a latency histogram and a request counter by route and status, and errors (5xx) by
 * status. Recording one request is a handful of array increments: nothing on the request path waits.
 */
const BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

interface Series {
  labels: string;
  counts: number[];
  sum: number;
  total: number;
}

export class ServingMetrics {
  private readonly latency = new Map<string, Series>();
  private readonly errors = new Map<string, number>();

  /** One answered request: its route (the registered one, not the raw URL), status and duration. */
  observe(route: string, status: number, seconds: number): void {
    const labels = `route="${escapeLabel(route)}",status="${status}"`;
    let series = this.latency.get(labels);
    if (!series) {
      series = { labels, counts: BUCKETS_SECONDS.map(() => 0), sum: 0, total: 0 };
      this.latency.set(labels, series);
    }
    for (let i = 0; i < BUCKETS_SECONDS.length; i++) if (seconds <= BUCKETS_SECONDS[i]!) series.counts[i]!++;
    series.sum += seconds;
    series.total++;
    if (status >= 500) this.errors.set(String(status), (this.errors.get(String(status)) ?? 0) + 1);
  }

  render(): string {
    const lines = [
      '# HELP mlpipe_serving_request_duration_seconds Time from request to answer.',
      '# TYPE mlpipe_serving_request_duration_seconds histogram',
    ];
    for (const s of this.latency.values()) {
      BUCKETS_SECONDS.forEach((le, i) =>
        lines.push(`mlpipe_serving_request_duration_seconds_bucket{${s.labels},le="${le}"} ${s.counts[i]}`),
      );
      lines.push(`mlpipe_serving_request_duration_seconds_bucket{${s.labels},le="+Inf"} ${s.total}`);
      lines.push(`mlpipe_serving_request_duration_seconds_sum{${s.labels}} ${s.sum}`);
      lines.push(`mlpipe_serving_request_duration_seconds_count{${s.labels}} ${s.total}`);
    }
    lines.push(
      '# HELP mlpipe_serving_requests_total Requests answered.',
      '# TYPE mlpipe_serving_requests_total counter',
    );
    for (const s of this.latency.values()) lines.push(`mlpipe_serving_requests_total{${s.labels}} ${s.total}`);
    lines.push(
      '# HELP mlpipe_serving_errors_total Requests answered with a 5xx.',
      '# TYPE mlpipe_serving_errors_total counter',
    );
    for (const [status, n] of this.errors) lines.push(`mlpipe_serving_errors_total{status="${status}"} ${n}`);
    return `${lines.join('\n')}\n`;
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
