import { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/** Activities that send their own checkpoints as heartbeat details: the keepalive must not overwrite them. */
const selfHeartbeating = new WeakSet<Context>();

/** Three beats per heartbeat timeout: one lost or late beat never times the activity out. */
function beatEveryMs(ctx: Context): number {
  return Math.min(5_000, Math.max(200, (ctx.info.heartbeatTimeoutMs ?? 30_000) / 3));
}

/**
 * Keeps heartbeating the last checkpoint while a long step (landing a big CSV, a slow query) runs,
 * so the server does not time the activity out, and so cancellation can reach it.
 */
export async function withHeartbeatKeepalive<T>(
  work: (checkpoint: (details: unknown) => void) => Promise<T>,
): Promise<T> {
  const ctx = Context.current();
  selfHeartbeating.add(ctx);
  let last: unknown = ctx.info.heartbeatDetails;
  const timer = setInterval(() => ctx.heartbeat(last), beatEveryMs(ctx));
  try {
    return await work((details) => {
      last = details;
      ctx.heartbeat(details);
    });
  } finally {
    clearInterval(timer);
  }
}

/**
 * Every activity scheduled with a heartbeat timeout heartbeats while it runs, so a worker that dies
 * (SIGKILL, OOM, a lost host) has its activities retried elsewhere after that timeout instead of after
 * the whole start-to-close timeout. Activities that checkpoint through `withHeartbeatKeepalive` take over.
 */
export const heartbeatKeepaliveInterceptor: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      if (ctx.info.heartbeatTimeoutMs === undefined) return next(input);
      const timer = setInterval(() => {
        if (!selfHeartbeating.has(ctx)) ctx.heartbeat();
      }, beatEveryMs(ctx));
      try {
        return await next(input);
      } finally {
        clearInterval(timer);
      }
    },
  },
});

/** Throws the cancellation (workflow cancelled, worker shutting down) if one has arrived. */
export function throwIfCancelled(): void {
  const signal = Context.current().cancellationSignal;
  if (signal.aborted) throw signal.reason ?? new Error('activity cancelled');
}
