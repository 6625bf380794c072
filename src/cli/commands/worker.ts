import type { Command } from 'commander';
import { action, commandLogger } from '../output';

export function registerWorker(program: Command): void {
  const cmd = program
    .command('worker')
    .description('run a worker that executes the pipelines (Ctrl-C or SIGTERM stops it gracefully)')
    .option('--task-queue <name>', 'task queue to poll (default: TEMPORAL_TASK_QUEUE)');
  cmd.action(
    action(cmd, async ({ config }, opts: { taskQueue?: string }) => {
      const logger = commandLogger(config);
      // Loaded here, not at the top: the worker's modules take seconds to load, which every other command would pay.
      const { createWorker } = await import('../../worker');
      const { run } = await createWorker(config, logger, { taskQueue: opts.taskQueue });
      await run();
    }),
  );
}
