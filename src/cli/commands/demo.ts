import type { Command } from 'commander';
import { connectClient } from '../../temporal/client';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { createLogger } from '../../logger';
import { action } from '../output';

export function registerDemo(program: Command): void {
  const cmd = program
    .command('demo')
    .description(
      'the main job on the embedded defaults: starts a server (unless one answers) and a worker, runs the pipelines on the bundled flights data',
    )
    .option('--keep', 'leave the Temporal server running afterwards (its UI stays browsable)');
  cmd.action(
    action(cmd, async ({ config }, opts: { keep?: boolean }) => {
      const say = (text: string) => console.log(text);
      // The demo's own lines go to the terminal; the worker's JSON logs go to a file beside the data.
      const logFile = path.join(config.dataDir, 'demo.log');
      fs.mkdirSync(config.dataDir, { recursive: true });
      const logger = createLogger(config.LOG_LEVEL, pino.destination({ dest: logFile, sync: true }));
      // Loaded here, not at the top, like `mlpipe server` and `mlpipe worker`: other commands need none of them.
      const [{ ensureServer }, { createWorker }, { runDemo }] = await Promise.all([
        import('../../temporal/dev-server'),
        import('../../worker'),
        import('../../demo/run-demo'),
      ]);
      const server = await ensureServer(config, { ui: true, detach: opts.keep, log: (line) => console.error(line) });
      say(`Worker logs: ${logFile}`);
      say(
        `Temporal server: ${server.address} (${server.started ? 'started by the demo' : 'already running'}); web UI ${server.uiUrl}`,
      );
      const { worker, run } = await createWorker(config, logger);
      const running = run();
      try {
        const client = await connectClient(config);
        try {
          await runDemo(client, config, logger, say);
        } finally {
          await client.connection.close();
        }
      } finally {
        worker.shutdown();
        await running;
        if (opts.keep || !server.started) {
          say(`\nThe Temporal server keeps running${server.pid ? ` (pid ${server.pid})` : ''}: browse ${server.uiUrl}`);
        } else {
          await server.stop();
          say(
            '\nStopped the worker and the Temporal server the demo started (use --keep to leave the server running).',
          );
        }
      }
      say(`Temporal UI: ${server.uiUrl}`);
    }),
  );
}
