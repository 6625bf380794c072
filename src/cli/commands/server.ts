import type { Command } from 'commander';
import { action } from '../output';

export function registerServer(program: Command): void {
  const cmd = program
    .command('server')
    .description(
      'start the embedded Temporal dev server (persistent, web UI, search attributes) unless one answers at TEMPORAL_ADDRESS',
    )
    .option('--headless', 'no web UI')
    .option('--detach', 'leave the server running in the background and return');
  cmd.action(
    action(cmd, async ({ config, print }, opts: { headless?: boolean; detach?: boolean }) => {
      // Loaded here: the embedded server's modules (the SDK's test environment) are slow to load for other commands.
      const { ensureServer } = await import('../../temporal/dev-server');
      const server = await ensureServer(config, {
        ui: !opts.headless,
        detach: opts.detach,
        log: (line) => console.error(line),
      });
      const what = server.started
        ? `started (pid ${server.pid}, log ${server.logFile})`
        : 'already running: nothing started';
      print(`Temporal server at ${server.address} ${what}\nWeb UI: ${server.uiUrl}`, { ...server, stop: undefined });
      if (!server.started || opts.detach) return;
      console.error('press Ctrl-C to stop it');
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      await server.stop();
    }),
  );
}
