import { Context } from '@temporalio/activity';

/**
 * Keeps heartbeating the last checkpoint while a long step (landing a big CSV, a slow query) runs,
 * so the server does not time the activity out, and so cancellation can reach it.
 */
export async function withHeartbeatKeepalive<T>(work: (checkpoint: (details: unknown) => void) => Promise<T>): Promise<T> {
  const ctx = Context.current();
  // Three beats per heartbeat timeout: one lost or late beat never times the activity out.
  const intervalMs = Math.min(5_000, Math.max(200, (ctx.info.heartbeatTimeoutMs ?? 30_000) / 3));
  let last: unknown = ctx.info.heartbeatDetails;
  const timer = setInterval(() => ctx.heartbeat(last), intervalMs);
  try {
    return await work((details) => {
      last = details;
      ctx.heartbeat(details);
    });
  } finally {
    clearInterval(timer);
  }
}

/** Throws the cancellation (workflow cancelled, worker shutting down) if one has arrived. */
export function throwIfCancelled(): void {
  const signal = Context.current().cancellationSignal;
  if (signal.aborted) throw signal.reason ?? new Error('activity cancelled');
}
