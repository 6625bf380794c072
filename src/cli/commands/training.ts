import os from 'node:os';
import type { Command } from 'commander';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { approvalView, decide, pendingApprovals, startTraining } from '../../client/training';
import { workflowUiUrl } from '../../temporal/ui-links';
import { action, table } from '../output';
import { formatReview } from '../review-text';
import { refused, usage } from '../refusals';
import { reportRun } from '../run-report';
import { withClient } from '../with-client';

export function registerTraining(program: Command): void {
  const train = program
    .command('train')
    .description("train, evaluate and stage a model of a spec; it then waits for a reviewer's approval")
    .requiredOption('--spec <name>', 'spec whose model to train, e.g. flights')
    .option('--from <day>', "first day of the training window (default: the spec's)")
    .option('--to <day>', "last day of the training window (default: the spec's)")
    .option(
      '--as <person>',
      'who starts the run (recorded; may not approve it)',
      process.env.USER || os.userInfo().username,
    )
    .option('--approval-timeout <duration>', 'how long to wait for a reviewer, e.g. 72h, 30m', '72h')
    .option('--reason <text>', 'why this run (kept in the model lineage)')
    .option('--run-id <id>', 'the last part of the workflow id training/<model>/<id> (default: yyyymmdd-hhmm, UTC)')
    .option('--wait', 'wait for the run to finish (it finishes after a decision)');
  train.action(
    action(
      train,
      async (
        ctx,
        opts: {
          spec: string;
          from?: string;
          to?: string;
          as: string;
          approvalTimeout: string;
          reason?: string;
          runId?: string;
          wait?: boolean;
        },
      ) => {
        await withClient(ctx, async (client) => {
          const handle = await startTraining(client, ctx.config, {
            spec: opts.spec,
            from: opts.from,
            to: opts.to,
            initiatedBy: opts.as,
            approvalTimeout: opts.approvalTimeout,
            reason: opts.reason,
            runId: opts.runId,
          }).catch((e) => {
            if (e instanceof WorkflowExecutionAlreadyStartedError)
              throw new Error(
                `${e.workflowId} is already running (one run per model and minute): pass --run-id to start another`,
              );
            throw usage(e);
          });
          await reportRun(
            ctx,
            handle.workflowId,
            handle.firstExecutionRunId,
            Boolean(opts.wait),
            () => handle.result(),
            (r) =>
              `${r.modelName} v${r.version} in production, approved by ${r.approvedBy}${r.previousVersion ? `; v${r.previousVersion} archived` : ''}`,
          );
        });
      },
    ),
  );

  const pending = program
    .command('pending')
    .description('training runs waiting for a reviewer (a visibility query)')
    .option('--model <name>', 'only this model');
  pending.action(
    action(pending, async (ctx, opts: { model?: string }) => {
      await withClient(ctx, async (client) => {
        const runs = await pendingApprovals(client, opts.model);
        // One run whose worker is gone must not hide the others: its row says the query failed.
        const views = await Promise.allSettled(runs.map((r) => approvalView(client, r.workflowId)));
        const data = runs.map((r, i) => {
          const outcome = views[i]!;
          const uiUrl = workflowUiUrl(ctx.config.TEMPORAL_UI_URL, ctx.config.TEMPORAL_NAMESPACE, r.workflowId, r.runId);
          if (outcome.status === 'rejected')
            return {
              workflowId: r.workflowId,
              model: r.modelName,
              uiUrl,
              queryError: String((outcome.reason as Error)?.message ?? outcome.reason),
            };
          const view = outcome.value;
          return {
            workflowId: r.workflowId,
            model: view.modelName,
            version: view.version,
            initiatedBy: view.initiatedBy,
            deadline: view.deadline,
            uiUrl,
          };
        });
        const text =
          data.length === 0
            ? 'no training run is waiting for approval'
            : table(
                ['workflow', 'model', 'version', 'started by', 'deadline'],
                data.map((d) =>
                  'queryError' in d
                    ? [d.workflowId, d.model ?? '', '?', '?', `query failed: ${d.queryError}`]
                    : [d.workflowId, d.model, `v${d.version}`, d.initiatedBy, d.deadline ?? ''],
                ),
              );
        ctx.print(text, data);
      });
    }),
  );

  const review = program
    .command('review')
    .description('the evaluation and comparison of a run waiting for approval')
    .argument('<workflowId>');
  review.action(
    action(review, async (ctx, workflowId: string) => {
      await withClient(ctx, async (client) => {
        const view = await approvalView(client, workflowId);
        ctx.print(formatReview(workflowId, view), view);
      });
    }),
  );

  const approve = program
    .command('approve')
    .description('approve a waiting candidate (refused unless you are a listed reviewer other than the initiator)')
    .argument('<workflowId>')
    .requiredOption('--reviewer <id>', 'who approves')
    .option('--comment <text>', 'why, kept with the decision');
  approve.action(
    action(approve, async (ctx, workflowId: string, opts: { reviewer: string; comment?: string }) => {
      await withClient(ctx, async (client) => {
        const decision = await decide(client, workflowId, {
          decision: 'approve',
          reviewer: opts.reviewer,
          comment: opts.comment,
        }).catch((e) => {
          throw refused(workflowId, usage(e));
        });
        ctx.print(`${workflowId}: approved by ${decision.reviewer}; promotion follows`, decision);
      });
    }),
  );

  const reject = program
    .command('reject')
    .description('reject a waiting candidate, with a reason')
    .argument('<workflowId>')
    .requiredOption('--reviewer <id>', 'who rejects')
    .requiredOption('--reason <text>', 'why, kept with the decision');
  reject.action(
    action(reject, async (ctx, workflowId: string, opts: { reviewer: string; reason: string }) => {
      await withClient(ctx, async (client) => {
        const decision = await decide(client, workflowId, {
          decision: 'reject',
          reviewer: opts.reviewer,
          reason: opts.reason,
        }).catch((e) => {
          throw refused(workflowId, usage(e));
        });
        ctx.print(`${workflowId}: rejected by ${decision.reviewer}: ${decision.reason}`, decision);
      });
    }),
  );
}
