import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PredictionLogBatches } from '../../src/serving/log-batches';
import type { PredictionLogRepository, PredictionLogRow } from '../../src/store/prediction-log';

const rows = (requestId: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ request_id: requestId, score: i }) as unknown as PredictionLogRow);

/** A log whose write records the request ids it was given, and fails while `failing` is set. */
function fakeLog() {
  const state = { failing: false, writes: [] as string[][] };
  const log = {
    async write(written: PredictionLogRow[]) {
      state.writes.push(written.map((r) => r.request_id));
      if (state.failing) throw new Error('database is locked');
      return written.length;
    },
  } as unknown as PredictionLogRepository;
  return { state, log };
}

describe('PredictionLogBatches', () => {
  it('writes the rows of concurrent requests in one write, each request answered once it is done', async () => {
    const { state, log } = fakeLog();
    const batches = new PredictionLogBatches(log);
    await Promise.all([batches.write(rows('a', 2)), batches.write(rows('b', 1)), batches.write(rows('c', 3))]);
    assert.deepEqual(state.writes, [['a', 'a', 'b', 'c', 'c', 'c']]);
  });

  it('a failed write fails every request in it and is not repeated (a lost acknowledgement must not log twice)', async () => {
    const { state, log } = fakeLog();
    const batches = new PredictionLogBatches(log);
    state.failing = true;
    const answers = await Promise.allSettled([batches.write(rows('a', 1)), batches.write(rows('b', 1))]);
    assert.deepEqual(
      answers.map((a) => a.status),
      ['rejected', 'rejected'],
    );
    assert.deepEqual(state.writes, [['a', 'b']]);
  });
});
