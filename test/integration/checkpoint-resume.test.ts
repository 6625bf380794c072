import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { startIngestion } from '../../src/client/ingestion';
import {
  connect,
  spawnWorker,
  startWorker,
  testConfig,
  uniqueTaskQueue,
  waitFor,
  type WorkerProcess,
} from '../helpers/temporal';
import { saveHistory } from '../helpers/histories';
import { observerStore, otherHostEnv } from '../helpers/hosts';

/**
 * The crash story: a worker dies mid-ingestion (SIGKILL, no chance to clean up) or is stopped
 * (SIGTERM); a new worker resumes from the last checkpoint and produces exactly the output of an
 * undisturbed run, reading at most the one chunk that was in flight again.
 */
const config = testConfig();
const observer = observerStore(config);
const CHUNK_ROWS = 100_000; // 30 chunks over the 3M flights
const ASOF = '2001-07-02T00:00:00Z';
let client: Client;
let undisturbedHash: string;
const spawned: WorkerProcess[] = [];

before(async () => {
  client = await connect(config);
  const taskQueue = uniqueTaskQueue('undisturbed');
  const worker = await startWorker(config, taskQueue);
  try {
    const handle = await startIngestion(client, config, {
      spec: 'flights',
      batch: 'undisturbed',
      asOf: ASOF,
      chunkRows: CHUNK_ROWS,
      taskQueue,
    });
    undisturbedHash = (await handle.result()).outputHash;
  } finally {
    await worker.stop();
  }
});

after(async () => {
  for (const w of spawned) w.child.kill('SIGKILL');
  await client.connection.close();
});

/** Chunks persisted where a resuming worker finds them: the object store when there is one. */
async function persistedChunks(batch: string): Promise<number> {
  const key = { kind: 'datasets' as const, name: 'flights', version: '1.0.0', partition: batch };
  const dir = path.join(await observer.restore(key, 'work'), 'chunks');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).length : 0;
}

function chunksStarted(worker: WorkerProcess, workflowId: string): number[] {
  return worker.logs
    .filter((l) => l.msg === 'chunk started' && l.workflowId === workflowId)
    .map((l) => l.chunk as number);
}

async function interruptedRun(batch: string, interrupt: (w: WorkerProcess) => void, env: Record<string, string> = {}) {
  const taskQueue = uniqueTaskQueue(batch);
  const first = spawnWorker(config, taskQueue, env);
  spawned.push(first);
  const handle = await startIngestion(client, config, {
    spec: 'flights',
    batch,
    asOf: ASOF,
    chunkRows: CHUNK_ROWS,
    heartbeatTimeoutMs: 3_000,
    taskQueue,
  });
  await waitFor('8 persisted chunks', async () => (await persistedChunks(batch)) >= 8, 120_000, 20);
  const persistedAtInterrupt = await persistedChunks(batch);
  interrupt(first);
  const exitCode = await first.exited;
  assert.ok((await persistedChunks(batch)) < 30, 'the interruption landed mid-ingestion');

  const second = spawnWorker(config, taskQueue, otherHostEnv(config));
  spawned.push(second);
  const result = await handle.result();
  second.child.kill('SIGTERM');
  await second.exited;
  return {
    handle,
    result,
    exitCode,
    persistedAtInterrupt,
    before: chunksStarted(first, handle.workflowId),
    afterRestart: chunksStarted(second, handle.workflowId),
    logs: [...first.logs, ...second.logs],
  };
}

function assertResumedExactly(run: Awaited<ReturnType<typeof interruptedRun>>) {
  const { result } = run;
  assert.equal(result.outputHash, undisturbedHash, 'output equals an undisturbed run, byte for byte');
  assert.equal(result.rowsRead, 3_000_000);
  assert.equal(result.rowsRead, result.rowsAccepted + result.rowsRejected);
  assert.equal(result.chunksTotal, 30);
  assert.ok(
    result.resumedFromChunk >= run.persistedAtInterrupt,
    `resumed at chunk ${result.resumedFromChunk}, after the ${run.persistedAtInterrupt} chunks persisted before the interruption`,
  );
  assert.deepEqual(
    run.afterRestart,
    range(result.resumedFromChunk, 30),
    'the new worker read exactly the chunks not yet persisted',
  );
  const reRead = run.before.filter((c) => run.afterRestart.includes(c));
  assert.ok(reRead.length <= 1, `at most one chunk read twice, got ${JSON.stringify(reRead)}`);
  assert.deepEqual(
    [...new Set([...run.before, ...run.afterRestart])].sort((a, b) => a - b),
    range(0, 30),
    `no chunk skipped: before ${run.before} after ${run.afterRestart} persisted ${run.persistedAtInterrupt}`,
  );
}

/** Worker logs are JSON lines that say which workflow run and activity wrote them. */
function assertLogsCarryIds(logs: Record<string, unknown>[], workflowId: string) {
  const activityLine = logs.find((l) => l.msg === 'chunk started' && l.workflowId === workflowId);
  assert.equal(activityLine?.activityType, 'ingestSource');
  assert.match(String(activityLine?.workflowRunId), /^[0-9a-f-]{36}$/);
  const workflowLine = logs.find(
    (l) => typeof l.msg === 'string' && l.msg.startsWith('stage Ingesting') && l.workflowId === workflowId,
  );
  assert.ok(workflowLine, 'the workflow logs its stages');
  assert.match(String(workflowLine.runId), /^[0-9a-f-]{36}$/);
  assert.equal(workflowLine.workflowType, 'ingestionPipeline');
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

describe('checkpointed ingestion survives its worker', () => {
  test('SIGKILL mid-ingestion: a new worker resumes from the last checkpoint, output hash-equal to an undisturbed run', async () => {
    const run = await interruptedRun('killed', (w) => w.child.kill('SIGKILL'));
    assert.equal(run.exitCode, null, 'the first worker was killed');
    assertResumedExactly(run);
    assertLogsCarryIds(run.logs, run.handle.workflowId);
    await saveHistory('ingestion-resumed-after-sigkill', run.handle);
  });

  test('SIGTERM: the worker stops gracefully after its grace period, and the run resumes on a new worker', async () => {
    const run = await interruptedRun('terminated', (w) => w.child.kill('SIGTERM'), { WORKER_SHUTDOWN_GRACE_MS: '300' });
    assert.equal(run.exitCode, 0, 'the worker exited cleanly');
    assertResumedExactly(run);
  });
});
