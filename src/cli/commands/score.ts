import type { Command } from 'commander';
import { InvalidRequestError } from '../../client/request';
import { startScoring } from '../../client/scoring';
import { action, UsageError } from '../output';
import { reportRun } from '../run-report';
import { withClient } from '../with-client';

const usage = (e: unknown) => (e instanceof InvalidRequestError ? new UsageError(e.message) : e);

export function registerScore(program: Command): void {
  const score = program
    .command('score')
    .description(
      'batch-score a window of feature partitions with the production model (or --version), publishing predictions with lineage',
    )
    .requiredOption('--spec <name>', 'spec whose model scores, e.g. flights')
    .requiredOption('--from <day>', 'first day, YYYY-MM-DD')
    .requiredOption('--to <day>', 'last day, YYYY-MM-DD')
    .option('--version <n>', 'a registry version instead of the production one')
    .option('--no-wait', 'start the workflow and return');
  score.action(
    action(score, async (ctx, opts: { spec: string; from: string; to: string; version?: string; wait: boolean }) => {
      await withClient(ctx, async (client) => {
        const handle = await startScoring(client, ctx.config, opts).catch((e) => {
          throw usage(e);
        });
        await reportRun(
          ctx,
          handle.workflowId,
          handle.firstExecutionRunId,
          opts.wait,
          () => handle.result(),
          (r) =>
            [
              `${r.modelName} v${r.version}: ${r.scored} of ${r.rows} rows scored, ${r.deadLetters} dead letter(s)`,
              `predictions: ${r.predictionsUri} (sha256 ${r.outputHash.slice(0, 12)})`,
              `dead letters: ${r.deadLettersUri}`,
              `mean score ${r.distribution.mean.toFixed(4)}${r.distribution.baselineMean !== undefined ? ` against the baseline's ${r.distribution.baselineMean.toFixed(4)} (${r.distribution.verdict})` : ' (no baseline)'}`,
            ].join('\n'),
        );
      });
    }),
  );
}
