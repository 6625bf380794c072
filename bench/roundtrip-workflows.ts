/**
 * Bench-only workflow code for the orchestration round-trip benchmark (bench/roundtrip.bench.ts),
 * bundled on its own by bench/roundtrip-worker.ts and run on a task queue of its own: nothing here is
 * part of the pipelines' workflow bundle (workflows/), so their recorded histories are unaffected.
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';

/** The no-op activity: returns its argument. */
export interface NoopActivities {
  noop(i: number): Promise<number>;
}

const { noop } = proxyActivities<NoopActivities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 1 } });
const local = proxyLocalActivities<NoopActivities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 1 } });

/** Calls the no-op `calls` times, one after the other, as a regular or a local activity. */
export async function noopChain(calls: number, kind: 'activity' | 'local'): Promise<number> {
  const call = kind === 'local' ? local.noop : noop;
  let sum = 0;
  for (let i = 0; i < calls; i++) sum += await call(i);
  return sum;
}
