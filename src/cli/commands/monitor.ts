import type { Command } from 'commander';
import { startMonitoring } from '../../client/monitoring';
import { InvalidRequestError } from '../../client/request';
import { action, UsageError } from '../output';
import { reportRun } from '../run-report';
import { withClient } from '../with-client';

const usage = (e: unknown) => (e instanceof InvalidRequestError ? new UsageError(e.message) : e);

export function registerMonitor(program: Command): void {
  const monitor = program
    .command('monitor')
    .description(
      'watch the production model over a window: drift, performance, alerts, a report, retraining when the spec says so',
    )
    .requiredOption('--spec <name>', 'spec whose production model to monitor, e.g. flights')
    .requiredOption('--from <day>', 'first day of the window, YYYY-MM-DD')
    .requiredOption('--to <day>', 'last day of the window, YYYY-MM-DD')
    .option('--no-wait', 'start the workflow and return');
  monitor.action(
    action(monitor, async (ctx, opts: { spec: string; from: string; to: string; wait: boolean }) => {
      await withClient(ctx, async (client) => {
        const handle = await startMonitoring(client, ctx.config, {
          spec: opts.spec,
          from: opts.from,
          to: opts.to,
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
            [
              `${r.modelName} v${r.version}: ${r.driftedFeatures.length ? `drift in ${r.driftedFeatures.join(', ')}` : 'no feature drifted'}${r.datasetDrift ? ' (dataset drift)' : ''}${r.degraded ? '; performance degraded' : ''}${r.degradedSegments?.length ? `; degraded on segment(s) ${r.degradedSegments.join(', ')}` : ''}`,
              `retraining: ${r.retraining.started ? `started ${r.retraining.workflowId}` : r.retraining.why}`,
              `report: ${r.reportUri}`,
            ].join('\n'),
        );
      });
    }),
  );
}
