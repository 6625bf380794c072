import type { Command } from 'commander';
import { openMetadataStore } from '../../store/database';
import { action, table, UsageError } from '../output';

export function registerAlerts(program: Command): void {
  const cmd = program
    .command('alerts')
    .description('recent alerts, newest first')
    .option('--limit <n>', 'how many', '20');
  cmd.action(
    action(cmd, async ({ config, print }, opts: { limit: string }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw new UsageError('--limit must be a whole number from 1 to 1000');
      const store = await openMetadataStore(config.databaseUrl);
      try {
        const alerts = await store.alerts.listRecent({ limit });
        const rows = alerts.map((a) => [
          a.createdAt.slice(0, 19),
          a.severity,
          a.code,
          a.subject,
          `${a.message}${a.observed ? ` [observed ${a.observed}, expected ${a.expected}]` : ''}`,
        ]);
        print(
          alerts.length
            ? `${table(['time', 'severity', 'code', 'subject', 'message'], rows)}\n\n${alerts.map((a) => `#${a.id} ${a.uiUrl ?? ''}`).join('\n')}`
            : 'no alerts',
          alerts,
        );
      } finally {
        await store.close();
      }
    }),
  );
}
