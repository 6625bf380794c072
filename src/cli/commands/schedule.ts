import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { createSchedule, describeSchedule, listSchedules } from '../../client/schedules';
import { InvalidRequestError } from '../../client/request';
import { withClient } from '../with-client';
import { action, table, UsageError } from '../output';

export function registerSchedule(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('Temporal Schedules for recurring pipeline runs (no cron box)');

  const create = schedule
    .command('create')
    .description('schedule the daily feature partition of a spec (overlap: skip; catches up after outages)')
    .requiredOption('--spec <name>', 'spec whose feature set to compute')
    .option(
      '--kind <kind>',
      'what to schedule: features (the daily partition), monitoring (the production model) or sensor (new deliveries under --pattern, each to its daily chain)',
      'features',
    )
    .option('--window-days <n>', 'monitoring: the window length in days', '7')
    .option('--pattern <path>', 'sensor: where deliveries arrive, e.g. incoming/flights-{day}.parquet')
    .option('--table <uri>', 'sensor: or the warehouse table whose days are the deliveries (postgresql://...?table=t)')
    .option('--cron <expr>', 'when, as a cron expression (UTC)', '0 2 * * *')
    .option('--catchup <duration>', 'how far back missed runs are caught up, e.g. 1d', '1d')
    .option('--lag-days <n>', 'compute the partition this many days before the scheduled time', '1')
    .option('--paused', 'create it paused');
  create.action(
    action(
      create,
      async (
        ctx,
        opts: {
          spec: string;
          kind: string;
          cron: string;
          catchup: string;
          lagDays: string;
          windowDays: string;
          pattern?: string;
          table?: string;
          paused?: boolean;
        },
      ) =>
        withClient(ctx, async (client) => {
          const id = await createSchedule(client, ctx.config, {
            spec: opts.spec,
            kind: opts.kind as 'features',
            cron: opts.cron,
            catchup: opts.catchup,
            lagDays: opts.lagDays,
            windowDays: opts.windowDays,
            pattern: opts.pattern,
            table: opts.table,
            paused: Boolean(opts.paused),
          }).catch((e) => {
            throw e instanceof InvalidRequestError ? new UsageError(e.message) : e;
          });
          ctx.print(`created schedule ${id} (${opts.cron}${opts.paused ? ', paused' : ''})`, { scheduleId: id });
        }),
    ),
  );

  const list = schedule.command('list').description('every schedule, with its state and next runs');
  list.action(
    action(list, async (ctx) =>
      withClient(ctx, async (client) => {
        const all = await listSchedules(client);
        const rows = all.map((s) => [
          s.scheduleId,
          s.state.paused ? 'paused' : 'active',
          s.info.nextActionTimes[0]?.toISOString() ?? '-',
          s.info.recentActions.at(-1)?.takenAt.toISOString() ?? '-',
        ]);
        ctx.print(
          all.length ? table(['schedule', 'state', 'next run', 'last run'], rows) : 'no schedules',
          all.map((s) => ({
            scheduleId: s.scheduleId,
            paused: s.state.paused,
            nextActionTimes: s.info.nextActionTimes,
            recentActions: s.info.recentActions,
          })),
        );
      }),
    ),
  );

  for (const [name, description, run] of [
    ['pause', 'pause a schedule', (h: ScheduleHandle) => h.pause('paused with mlpipe')],
    ['unpause', 'resume a paused schedule', (h: ScheduleHandle) => h.unpause('unpaused with mlpipe')],
    ['trigger', 'start a run now (overlap policy applies)', (h: ScheduleHandle) => h.trigger()],
    ['delete', 'delete a schedule (running workflows go on)', (h: ScheduleHandle) => h.delete()],
  ] as const) {
    const cmd = schedule.command(`${name} <scheduleId>`).description(description);
    cmd.action(
      action(cmd, async (ctx, id: string) =>
        withClient(ctx, async (client) => {
          await describeSchedule(client, id); // a clear "not found" before acting
          await run(client.schedule.getHandle(id));
          ctx.print(`${name}: ${id}`, { scheduleId: id, action: name });
        }),
      ),
    );
  }
}

type ScheduleHandle = ReturnType<Client['schedule']['getHandle']>;
