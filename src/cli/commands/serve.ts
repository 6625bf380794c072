import { openActivityDeps } from '../../../activities/open-deps';
import type { Command } from 'commander';
import { z } from 'zod';
import { startServing } from '../../serving/server';
import { formatZodError } from '../../validation';
import { action, commandLogger, UsageError } from '../output';

const OptionsSchema = z.object({
  host: z.string().min(1),
  // A string of digits first: Number('') would be 0, i.e. "any free port".
  port: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(0).max(65535))
    .optional(),
});

export function registerServe(program: Command): void {
  const cmd = program
    .command('serve')
    .description('run the prediction server: POST /predict, GET /healthz (Ctrl-C or SIGTERM stops it)')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on, 0 for any free one (default: MLPIPE_SERVE_PORT)');
  cmd.action(
    action(cmd, async ({ config, print }, raw: { host: string; port?: string }) => {
      const parsed = OptionsSchema.safeParse(raw);
      if (!parsed.success) throw new UsageError(formatZodError(parsed.error));
      const logger = commandLogger(config);
      const opened = await openActivityDeps(config, logger);
      try {
        const server = await startServing(opened.deps, {
          host: parsed.data.host,
          port: parsed.data.port ?? config.MLPIPE_SERVE_PORT,
        });
        print(`prediction server listening at ${server.url}`, { url: server.url });
        await new Promise<void>((resolve) => {
          for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
        });
        // In-flight requests finish (and are logged) before the stores close under them.
        await server.close();
      } finally {
        await opened.close();
      }
    }),
  );
}
