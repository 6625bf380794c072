import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from '@temporalio/worker';
import { loadHistories } from '../helpers/histories';
import { workflowBundle } from '../helpers/temporal';

/**
 * Every recorded history (test/replay/histories, recorded from integration runs with
 * MLPIPE_RECORD_HISTORIES=1 npm test) must replay against the current workflow code: a change that
 * would break running workflows fails here, and needs patched() instead.
 */
const histories = loadHistories();

test('recorded histories exist', () => {
  assert.ok(histories.length >= 2, `expected recorded histories in test/replay/histories, found ${histories.length}`);
});

for (const { name, workflowId, history } of histories) {
  test(`replays ${name} (${workflowId})`, async () => {
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId);
  });
}
