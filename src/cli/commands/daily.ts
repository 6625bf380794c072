import type { Command } from 'commander';
import { WorkflowFailedError } from '@temporalio/client';
import { startDailyChain, startSensorLook } from '../../client/daily';
import { workflowUiUrl } from '../../temporal/ui-links';
import { describeFailure } from '../failure-text';
import { action } from '../output';
import { usage } from '../refusals';
import { withClient } from '../with-client';

/** Waits for a run and prints `done(result)`, or fails naming the run and its UI page. */
async function awaitRun<R>(
  handle: { workflowId: string; firstExecutionRunId: string; result(): Promise<R> },
  url: string,
  done: (result: R) => void,
): Promise<void> {
  console.error(`started ${handle.workflowId}, waiting (Temporal UI: ${url})`);
  try {
    done(await handle.result());
  } catch (error) {
    if (error instanceof WorkflowFailedError)
      throw new Error(`${handle.workflowId} failed: ${describeFailure(error)} (${url})`);
    throw error;
  }
}

export function registerDaily(program: Command): void {
  const daily = program
    .command('daily')
    .description('daily datasets: one chain per day (ingest the night, then its features), fed by hand or by a sensor');

  const run = daily
    .command('run')
    .description("one day's chain (daily/<spec>/<day>): ingest the night's delivery, then the day's features")
    .requiredOption('--spec <name>', 'a spec whose contract is a daily dataset, e.g. flights-nightly')
    .requiredOption('--day <YYYY-MM-DD>', 'the day the delivery holds')
    .requiredOption('--source <uri>', "the night's file, a path under the data directory")
    .option('--as-of <iso-time>', 'time the freshness gate measures against (default: now)');
  run.action(
    action(run, async (ctx, opts: { spec: string; day: string; source: string; asOf?: string }) =>
      withClient(ctx, async (client) => {
        const handle = await startDailyChain(client, ctx.config, opts).catch((e) => {
          throw usage(e);
        });
        const url = workflowUiUrl(ctx.config.TEMPORAL_UI_URL, ctx.config.TEMPORAL_NAMESPACE, handle.workflowId);
        await awaitRun(handle, url, (r) =>
          ctx.print(
            `${handle.workflowId}: ${r.ingestion.rowsAccepted} rows published, ${r.ingestion.rowsRejected} dead letters, ${r.ingestion.warnings} warnings; ` +
              (r.features.status === 'computed'
                ? `features of ${r.features.partitions.map((p) => p.partition).join(', ')}`
                : `no features: ${r.features.reason}`) +
              (r.monitoring.status === 'ran'
                ? `; monitored ${r.monitoring.from}: report ${r.monitoring.result.reportUri}`
                : `; no monitoring: ${r.monitoring.reason}`),
            { workflowId: handle.workflowId, ...r },
          ),
        );
      }),
    ),
  );

  const look = daily
    .command('look')
    .description(
      "one look of a spec's sensor now: each new file under the pattern goes to its day's chain, in day order",
    )
    .requiredOption('--spec <name>', 'a spec whose contract is a daily dataset')
    .option(
      '--pattern <path>',
      'where deliveries arrive, under the data directory, e.g. incoming/flights-{day}.parquet',
    )
    .option('--table <uri>', 'or a warehouse table whose days are the deliveries: postgresql://.../db?table=schema.t');
  look.action(
    action(look, async (ctx, opts: { spec: string; pattern?: string; table?: string }) =>
      withClient(ctx, async (client) => {
        const handle = await startSensorLook(client, ctx.config, opts).catch((e) => {
          throw usage(e);
        });
        const url = workflowUiUrl(ctx.config.TEMPORAL_UI_URL, ctx.config.TEMPORAL_NAMESPACE, handle.workflowId);
        await awaitRun(handle, url, (r) =>
          ctx.print(
            r.delivered.length
              ? r.delivered.map((d) => `${d.day}  ${d.sourceUri}`).join('\n')
              : `no new delivery in ${opts.pattern ?? 'the table'}`,
            { workflowId: handle.workflowId, ...r },
          ),
        );
      }),
    ),
  );
}
