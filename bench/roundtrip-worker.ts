/**
 * The worker side of the orchestration round-trip benchmark, in a process of its own:
 *
 *   node --import tsx bench/roundtrip-worker.ts '<task JSON>'
 *
 * Bundles bench/roundtrip-workflows.ts (not workflows/), starts a Worker on the task's queue with a
 * no-op activity (default worker options) and a client, runs a warm-up, then the task's runs of
 * `noopChain` one after the other, each timed from the client (start -> result), with the CPU time this
 * process and the dev server used during it, and what the server counted for it (its metrics page, read
 * once settled before and after the run). The parent reads the histories. The result is printed as
 * one line `BENCH_RESULT <json>`.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { runAsChild } from './child';
import { cpuSecondsSince, processCpuSeconds, threadCpuSeconds } from './process-stats';
import { readSettledServerMetrics, serverDelta, type ServerOperation } from './server-metrics';
import type { CallKind, noopChain } from './roundtrip-workflows';

export interface RoundtripTask {
  kind: 'roundtrip';
  address: string;
  taskQueue: string;
  warmupCalls: number;
  /** The dev server's process, whose CPU time each run reports. */
  serverPid?: number;
  /** The dev server's Prometheus metrics page. */
  metricsUrl: string;
  runs: { workflowId: string; calls: number; activityKind: CallKind }[];
}

export interface RoundtripResult {
  kind: 'roundtrip';
  bundleSeconds: number;
  runs: {
    workflowId: string;
    calls: number;
    activityKind: CallKind;
    wallMs: number;
    /** CPU time of this process (worker and client) during the run. */
    workerCpuMs: number;
    /** The same by thread name (Linux /proc/self/task): MainThread, WorkerThread, tokio-runtime-w, ... */
    threadCpuMs: Record<string, number>;
    /** CPU time of the dev server during the run; undefined where /proc cannot be read. */
    serverCpuMs?: number;
    /** What the server counted during the run (its start and result included). */
    server: ServerOperation[];
  }[];
}

/** CPU ms by thread name between two readings of `threadCpuSeconds`. */
const differenceMs = (after: Record<string, number>, before: Record<string, number>) =>
  Object.fromEntries(Object.entries(after).map(([name, s]) => [name, (s - (before[name] ?? 0)) * 1000]));

const noop = () => {};
const quiet = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => console.error(m) };

async function main(task: RoundtripTask): Promise<RoundtripResult> {
  Runtime.install({
    logger: quiet,
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
  });
  const t0 = performance.now();
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./roundtrip-workflows'),
    logger: quiet,
  });
  const bundleSeconds = (performance.now() - t0) / 1000;
  const connection = await NativeConnection.connect({ address: task.address });
  const worker = await Worker.create({
    connection,
    taskQueue: task.taskQueue,
    workflowBundle,
    activities: { noop: async (i: number) => i },
  });
  const running = worker.run();
  const clientConnection = await Connection.connect({ address: task.address });
  const client = new Client({ connection: clientConnection });
  try {
    const execute = (workflowId: string, calls: number, kind: CallKind) =>
      client.workflow.execute<typeof noopChain>('noopChain', {
        taskQueue: task.taskQueue,
        workflowId,
        args: [calls, kind],
      });
    await execute(`${task.taskQueue}-warmup-activity`, task.warmupCalls, 'activity');
    await execute(`${task.taskQueue}-warmup-local`, task.warmupCalls, 'local');
    const runs: RoundtripResult['runs'] = [];
    let metrics0 = await readSettledServerMetrics(task.metricsUrl);
    for (const run of task.runs) {
      const server0 = processCpuSeconds(task.serverPid);
      const threads0 = threadCpuSeconds();
      const cpu0 = process.cpuUsage();
      const started = performance.now();
      const sum = await execute(run.workflowId, run.calls, run.activityKind);
      const wallMs = performance.now() - started;
      const workerCpuMs = cpuSecondsSince(cpu0) * 1000;
      const threads = differenceMs(threadCpuSeconds(), threads0);
      const server1 = processCpuSeconds(task.serverPid);
      const metrics1 = await readSettledServerMetrics(task.metricsUrl);
      const server = serverDelta(metrics0, metrics1);
      metrics0 = metrics1;
      if (sum !== (run.calls * (run.calls - 1)) / 2) throw new Error(`${run.workflowId}: noopChain returned ${sum}`);
      const serverCpuMs = server0 !== undefined && server1 !== undefined ? (server1 - server0) * 1000 : undefined;
      runs.push({
        ...run,
        wallMs,
        workerCpuMs,
        threadCpuMs: threads,
        serverCpuMs,
        server,
      });
    }
    return { kind: 'roundtrip', bundleSeconds, runs };
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    await clientConnection.close();
  }
}

runAsChild<RoundtripTask>(main);
