import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher } from '../../src/serving/batcher';

/** A run that records what it was given and answers each item doubled, after a turn of the event loop. */
function recordingRun(runs: number[][], fail?: (items: number[]) => boolean) {
  return async (items: number[]) => {
    runs.push([...items]);
    await new Promise((resolve) => setImmediate(resolve));
    if (fail?.(items)) throw new Error(`refused ${items.join(',')}`);
    return items.map((i) => i * 2);
  };
}

describe('Batcher', () => {
  it('runs what is submitted in the same turn together, each submitter getting its own result', async () => {
    const runs: number[][] = [];
    const batcher = new Batcher(recordingRun(runs), { maxItems: 10, retryAlone: false });
    assert.deepEqual(await Promise.all([1, 2, 3].map((i) => batcher.submit(i))), [2, 4, 6]);
    assert.deepEqual(runs, [[1, 2, 3]]);
  });

  it('items submitted while a run is in flight wait for it, then run together, at most maxItems at a time', async () => {
    const runs: number[][] = [];
    const batcher = new Batcher(recordingRun(runs), { maxItems: 3, retryAlone: false });
    const first = batcher.submit(1);
    await new Promise((resolve) => setImmediate(resolve)); // the first run has started
    const later = [2, 3, 4, 5].map((i) => batcher.submit(i));
    assert.deepEqual(await Promise.all([first, ...later]), [2, 4, 6, 8, 10]);
    assert.deepEqual(runs, [[1], [2, 3, 4], [5]]);
  });

  it('with retryAlone, a failed run is run again item by item, so only the failing item fails', async () => {
    const runs: number[][] = [];
    const batcher = new Batcher(
      recordingRun(runs, (items) => items.includes(2)),
      { maxItems: 10, retryAlone: true },
    );
    const answers = await Promise.allSettled([1, 2, 3].map((i) => batcher.submit(i)));
    assert.deepEqual(
      answers.map((a) => (a.status === 'fulfilled' ? a.value : (a.reason as Error).message)),
      [2, 'refused 2', 6],
    );
    assert.deepEqual(runs, [[1, 2, 3], [1], [2], [3]]);
  });

  it('without retryAlone, a failed run fails every item in it, and is not run again', async () => {
    const runs: number[][] = [];
    const batcher = new Batcher(
      recordingRun(runs, () => true),
      { maxItems: 10, retryAlone: false },
    );
    const answers = await Promise.allSettled([1, 2].map((i) => batcher.submit(i)));
    assert.deepEqual(
      answers.map((a) => a.status === 'rejected' && (a.reason as Error).message),
      ['refused 1,2', 'refused 1,2'],
    );
    assert.deepEqual(runs, [[1, 2]]);
  });

  it('a run that answers a different number of items than it was given fails them', async () => {
    const batcher = new Batcher(async (items: number[]) => items.slice(1), { maxItems: 10, retryAlone: false });
    await assert.rejects(Promise.all([1, 2].map((i) => batcher.submit(i))), /a batch of 2 items gave 1 results/);
  });
});
