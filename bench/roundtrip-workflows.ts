/**
 * Bench-only workflow code for the orchestration round-trip benchmark (bench/roundtrip.bench.ts),
 * bundled on its own by that module's child process and run on a task queue of its own: nothing here is
 * part of the pipelines' workflow bundle (workflows/), so their recorded histories are unaffected.
 */
import { proxyActivities, proxyLocalActivities, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { PipelineStage } from '../src/api/search-attributes';

/** The no-op activity: returns its argument. */
export interface NoopActivities {
  noop(i: number): Promise<number>;
}

const { noop } = proxyActivities<NoopActivities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 1 } });
const local = proxyLocalActivities<NoopActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 1 },
});

/**
 * How each call is made: a regular activity; a local activity; or a regular activity after the
 * bookkeeping a pipeline stage does (workflows/pipeline-run.ts `stage`: the PipelineStage search
 * attribute and the UI's current details), so that what the bookkeeping adds to a workflow task is
 * measured apart.
 */
export type CallKind = 'activity' | 'local' | 'staged';

/** Calls the no-op `calls` times, one after the other. */
export async function noopChain(calls: number, kind: CallKind): Promise<number> {
  const call = kind === 'local' ? local.noop : noop;
  let sum = 0;
  for (let i = 0; i < calls; i++) {
    if (kind === 'staged') {
      upsertSearchAttributes([{ key: PipelineStage, value: `Call${i}` }]);
      setCurrentDetails(`**Call${i}**: a no-op`);
    }
    sum += await call(i);
  }
  return sum;
}
