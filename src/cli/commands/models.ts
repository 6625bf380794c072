import os from 'node:os';
import type { Command } from 'commander';
import { z } from 'zod';
import { startRollback } from '../../client/training';
import { InvalidRequestError } from '../../client/request';
import { openMetadataStore, type MetadataStore } from '../../store/database';
import { action, table, UsageError } from '../output';
import { reportRun } from '../run-report';
import { withClient } from '../with-client';

const usage = (e: unknown) => (e instanceof InvalidRequestError ? new UsageError(e.message) : e);
const metric = (metrics: Record<string, unknown>, name: string) => {
  const value = (metrics.test as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'number' ? value.toFixed(4) : '-';
};

async function withStore<T>(url: string, fn: (store: MetadataStore) => Promise<T>): Promise<T> {
  const store = await openMetadataStore(url);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function registerModels(program: Command): void {
  const models = program.command('models').description('the model registry: versions, stages, decisions, rollback');

  const list = models
    .command('list')
    .description('every version, newest first')
    .option('--model <name>', 'only this model');
  list.action(
    action(list, async ({ config, print }, opts: { model?: string }) => {
      const versions = await withStore(config.databaseUrl, (store) => store.models.list(opts.model));
      const rows = versions.map((v) => [
        v.modelName,
        `v${v.version}`,
        v.stage,
        metric(v.metrics, 'auc'),
        metric(v.metrics, 'logLoss'),
        String((v.lineage.window as { from?: string } | undefined)?.from ?? '') +
          '..' +
          String((v.lineage.window as { to?: string } | undefined)?.to ?? ''),
        v.createdAt.slice(0, 19),
      ]);
      print(
        versions.length
          ? table(['model', 'version', 'stage', 'test AUC', 'log loss', 'window', 'registered'], rows)
          : 'no model registered yet',
        versions,
      );
    }),
  );

  const show = models
    .command('show')
    .description('one version: metrics, lineage and every decision')
    .argument('<model>')
    .argument('<version>');
  show.action(
    action(show, async ({ config, print }, model: string, versionText: string) => {
      const version = z.coerce.number().int().positive().safeParse(versionText.replace(/^v/, ''));
      if (!version.success) throw new UsageError(`version must be a positive whole number, got ${versionText}`);
      const { found, decisions } = await withStore(config.databaseUrl, async (store) => ({
        found: await store.models.get(model, version.data),
        decisions: await store.models.decisions(model, version.data),
      }));
      if (!found) throw new Error(`${model} has no version ${version.data}`);
      const text = [
        `${found.modelName} v${found.version}: ${found.stage} (registered ${found.createdAt}, by ${found.workflowId})`,
        `artifact: ${found.artifactUri}`,
        `metrics: ${JSON.stringify(found.metrics.test)}`,
        `lineage: ${JSON.stringify(found.lineage)}`,
        '',
        decisions.length
          ? table(
              ['when', 'decision', 'by', 'why', 'workflow'],
              decisions.map((d) => [d.createdAt.slice(0, 19), d.decision, d.actor, d.reason, d.workflowId]),
            )
          : 'no decisions yet',
      ].join('\n');
      print(text, { ...found, decisions });
    }),
  );

  const rollback = models
    .command('rollback')
    .description('put an earlier production version back into production (a workflow, recorded like a promotion)')
    .requiredOption('--spec <name>', 'spec of the model, e.g. flights')
    .requiredOption('--to <version>', 'the version to restore')
    .requiredOption('--reason <text>', 'why, kept with the decision')
    .option(
      '--as <person>',
      'who rolls back (must be a reviewer of the model)',
      process.env.USER || os.userInfo().username,
    )
    .option('--no-wait', 'start the workflow and return');
  rollback.action(
    action(rollback, async (ctx, opts: { spec: string; to: string; reason: string; as: string; wait: boolean }) => {
      await withClient(ctx, async (client) => {
        const handle = await startRollback(client, ctx.config, {
          spec: opts.spec,
          toVersion: opts.to.replace(/^v/, ''),
          requestedBy: opts.as,
          reason: opts.reason,
        }).catch((e) => {
          throw usage(e);
        });
        await reportRun(
          ctx,
          handle.workflowId,
          handle.firstExecutionRunId,
          opts.wait,
          () => handle.result(),
          (r) => `${r.modelName} v${r.version} in production${r.previous ? `, v${r.previous} archived` : ''}`,
        );
      });
    }),
  );
}
