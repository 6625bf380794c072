/**
 * The worker side of the orchestration round-trip benchmark, in a process of its own:
 *
 *   node --import tsx bench/roundtrip-worker.ts '<task JSON>'
 *
 * Bundles bench/roundtrip-workflows.ts (not workflows/), starts a Worker on the task's queue with a
 * no-op activity (default worker options) and a client, runs a warm-up, then the task's runs of
 * `noopChain` one after the other, each timed from the client (start -> result). The parent reads
 * the histories. The result is printed as one line `BENCH_RESULT <json>`.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { runAsBenchWorker } from './child';
import type { noopChain } from './roundtrip-workflows';

export interface RoundtripTask {
  kind: 'roundtrip';
  address: string;
  taskQueue: string;
  warmupCalls: number;
  runs: { workflowId: string; calls: number; activityKind: 'activity' | 'local' }[];
}

export interface RoundtripResult {
  kind: 'roundtrip';
  bundleSeconds: number;
  runs: { workflowId: string; calls: number; activityKind: 'activity' | 'local'; wallMs: number }[];
}

const noop = () => {};
const quiet = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => console.error(m) };

async function main(task: RoundtripTask): Promise<RoundtripResult> {
  Runtime.install({ logger: quiet, telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } } });
  const t0 = performance.now();
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./roundtrip-workflows'), logger: quiet });
  const bundleSeconds = (performance.now() - t0) / 1000;
  const connection = await NativeConnection.connect({ address: task.address });
  const worker = await Worker.create({ connection, taskQueue: task.taskQueue, workflowBundle, activities: { noop: async (i: number) => i } });
  const running = worker.run();
  const clientConnection = await Connection.connect({ address: task.address });
  const client = new Client({ connection: clientConnection });
  try {
    const execute = (workflowId: string, calls: number, kind: 'activity' | 'local') =>
      client.workflow.execute<typeof noopChain>('noopChain', { taskQueue: task.taskQueue, workflowId, args: [calls, kind] });
    await execute(`${task.taskQueue}-warmup-activity`, task.warmupCalls, 'activity');
    await execute(`${task.taskQueue}-warmup-local`, task.warmupCalls, 'local');
    const runs: RoundtripResult['runs'] = [];
    for (const run of task.runs) {
      const started = performance.now();
      const sum = await execute(run.workflowId, run.calls, run.activityKind);
      const wallMs = performance.now() - started;
      if (sum !== (run.calls * (run.calls - 1)) / 2) throw new Error(`${run.workflowId}: noopChain returned ${sum}`);
      runs.push({ ...run, wallMs });
    }
    return { kind: 'roundtrip', bundleSeconds, runs };
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    await clientConnection.close();
  }
}

runAsBenchWorker<RoundtripTask>('roundtrip-worker.ts', main);
