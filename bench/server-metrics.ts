/**
 * What the dev server did for a stretch of work, by its own account: the request and persistence
 * counters of its Prometheus endpoint (`temporal server start-dev --metrics-port`), read before and
 * after. The server counts every request a service handles (frontend, history, matching) with its
 * handling time, and every persistence operation with its latency; those say how many round trips and
 * writes a workflow step costs, and how long the server spent on them.
 */

/** One service operation's, or one persistence operation's, count and summed time. */
export interface ServerOperation {
  /** `service`: a request handled by a service; `persistence`: a store operation made by it. */
  kind: 'service' | 'persistence';
  /** frontend, history, matching, worker. */
  service: string;
  operation: string;
  requests: number;
  /** Summed handling time (service) or latency (persistence), ms. */
  totalMs: number;
}

const COUNTERS: Record<string, { kind: ServerOperation['kind']; field: 'requests' | 'totalMs' }> = {
  service_requests: { kind: 'service', field: 'requests' },
  service_latency_sum: { kind: 'service', field: 'totalMs' },
  persistence_requests: { kind: 'persistence', field: 'requests' },
  persistence_latency_sum: { kind: 'persistence', field: 'totalMs' },
};

const SAMPLE = /^(\w+)\{(.*)\} (\S+)$/;
const LABEL = /(\w+)="([^"]*)"/g;

/** The counters in a Prometheus text page, summed over every label but service and operation. */
export function parseServerMetrics(page: string): ServerOperation[] {
  const byKey = new Map<string, ServerOperation>();
  for (const line of page.split('\n')) {
    const match = SAMPLE.exec(line);
    const counter = match && COUNTERS[match[1]!];
    if (!match || !counter) continue;
    const labels = Object.fromEntries([...match[2]!.matchAll(LABEL)].map((l) => [l[1]!, l[2]!]));
    const service = labels.service_name ?? '';
    const operation = labels.operation ?? '';
    const key = `${counter.kind}|${service}|${operation}`;
    const op = byKey.get(key) ?? { kind: counter.kind, service, operation, requests: 0, totalMs: 0 };
    // Latency sums are in seconds.
    op[counter.field] += counter.field === 'totalMs' ? Number(match[3]) * 1000 : Number(match[3]);
    byKey.set(key, op);
  }
  return [...byKey.values()];
}

/** after - before, per operation; operations that did not move are left out. */
export function serverDelta(before: ServerOperation[], after: ServerOperation[]): ServerOperation[] {
  const key = (op: ServerOperation) => `${op.kind}|${op.service}|${op.operation}`;
  const earlier = new Map(before.map((op) => [key(op), op]));
  return after
    .map((op) => ({
      ...op,
      requests: op.requests - (earlier.get(key(op))?.requests ?? 0),
      totalMs: op.totalMs - (earlier.get(key(op))?.totalMs ?? 0),
    }))
    .filter((op) => op.requests > 0);
}

const isPoll = (op: ServerOperation) => op.operation.startsWith('Poll');
/** Every request and store operation counted so far, long polls excluded (a poll ends when a task comes). */
const workDone = (ops: ServerOperation[]) => ops.filter((op) => !isPoll(op)).reduce((n, op) => n + op.requests, 0);

/**
 * The server's counters once they have caught up: it publishes them on a reporting interval, so a
 * page read right after the work can miss its last second. Reads until two pages a reporting
 * interval apart agree on every count but the long polls' (no work is running then).
 */
export async function readSettledServerMetrics(url: string, timeoutMs = 20_000): Promise<ServerOperation[]> {
  const deadline = Date.now() + timeoutMs;
  let previous = await readServerMetrics(url);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const page = await readServerMetrics(url);
    if (workDone(page) === workDone(previous)) return page;
    if (Date.now() > deadline) throw new Error(`the server's metrics at ${url} kept moving for ${timeoutMs} ms`);
    previous = page;
  }
}

async function readServerMetrics(url: string): Promise<ServerOperation[]> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return parseServerMetrics(await response.text());
}

/**
 * The server's handling time on a step's path, ms: what the frontend took to answer the worker's and
 * the client's requests (long polls excluded: they wait for a task; a frontend request's time
 * includes the history call it makes), plus the dispatch of tasks to matching (Add*Task, made by
 * history's transfer queue; a task matched to a waiting poller returns once the poller has recorded it
 * started, so Record*TaskStarted is inside it). The transfer queue's own pickup delay is not counted:
 * this is a lower bound.
 */
export function serverPathMs(ops: ServerOperation[]): number {
  const onPath = (op: ServerOperation) =>
    op.kind === 'service' &&
    ((op.service === 'frontend' && !isPoll(op)) || (op.service === 'matching' && /^Add\w+Task$/.test(op.operation)));
  return ops.filter(onPath).reduce((ms, op) => ms + op.totalMs, 0);
}
