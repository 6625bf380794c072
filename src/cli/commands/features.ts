import type { Command } from 'commander';
import { startBackfill, startFeaturePartition } from '../../client/features';
import { InvalidRequestError } from '../../client/request';
import { reportRun } from '../run-report';
import { withClient } from '../with-client';
import { action, UsageError } from '../output';

const usage = (e: unknown) => (e instanceof InvalidRequestError ? new UsageError(e.message) : e);

export function registerFeatures(program: Command): void {
  const features = program
    .command('features')
    .description('the feature pipeline: one partition, or a backfill of a range');

  const run = features
    .command('run')
    .description("compute one partition (a day) of the spec's feature set")
    .requiredOption('--spec <name>', 'spec whose feature set to compute, e.g. flights')
    .requiredOption('--partition <day>', 'the day, YYYY-MM-DD')
    .option('--input <uri>', 'artifact: URI of the input dataset (default: the latest published batch)')
    .option('--no-wait', 'start the workflow and return');
  run.action(
    action(run, async (ctx, opts: { spec: string; partition: string; input?: string; wait: boolean }) => {
      await withClient(ctx, async (client) => {
        const handle = await startFeaturePartition(client, ctx.config, {
          spec: opts.spec,
          partition: opts.partition,
          input: opts.input,
        }).catch((e) => {
          throw usage(e);
        });
        await reportRun(
          ctx,
          handle.workflowId,
          handle.firstExecutionRunId,
          opts.wait,
          () => handle.result(),
          (r) =>
            `${r.rows} rows, offline ${r.offlineUri}, online valid from ${r.onlineValidFrom} ${JSON.stringify(r.onlineWritten)}, ${r.warnings} warnings`,
        );
      });
    }),
  );

  const backfill = features
    .command('backfill')
    .description('compute every partition of a range as child workflows, skipping the ones already done')
    .requiredOption('--spec <name>', 'spec whose feature set to compute')
    .requiredOption('--from <day>', 'first day, YYYY-MM-DD')
    .requiredOption('--to <day>', 'last day, YYYY-MM-DD')
    .option('--concurrency <n>', 'child runs at once', '4')
    .option(
      '--days-per-run <n>',
      'days computed together by one child run (1: one run per day, each step visible; up to 62: much faster for history)',
      '1',
    )
    .option('--input <uri>', 'artifact: URI of the input dataset (default: the latest published batch)')
    .option('--no-wait', 'start the workflow and return');
  backfill.action(
    action(
      backfill,
      async (
        ctx,
        opts: {
          spec: string;
          from: string;
          to: string;
          concurrency: string;
          daysPerRun: string;
          input?: string;
          wait: boolean;
        },
      ) => {
        await withClient(ctx, async (client) => {
          const handle = await startBackfill(client, ctx.config, {
            spec: opts.spec,
            from: opts.from,
            to: opts.to,
            concurrency: opts.concurrency,
            daysPerRun: opts.daysPerRun,
            input: opts.input,
          }).catch((e) => {
            throw usage(e);
          });
          await reportRun(
            ctx,
            handle.workflowId,
            handle.firstExecutionRunId,
            opts.wait,
            () => handle.result(),
            (r) => `${r.total} partitions: ${r.computed} computed, ${r.alreadyDone} already done`,
          );
        });
      },
    ),
  );
}
