import type { Command } from 'commander';
import { WorkflowFailedError } from '@temporalio/client';
import { connectClient } from '../../temporal/client';
import { workflowUiUrl } from '../../temporal/ui-links';
import { startIngestion } from '../../client/ingestion';
import { InvalidRequestError } from '../../client/request';
import { describeFailure } from '../failure-text';
import { action, UsageError } from '../output';

export function registerIngest(program: Command): void {
  const cmd = program
    .command('ingest')
    .description("ingest one batch of a source under its spec's contract (starts an ingestionPipeline workflow)")
    .requiredOption('--spec <name>', 'spec whose contract the source must meet, e.g. flights')
    .option(
      '--source <uri>',
      "source: a path under the data directory (glob allowed), package:<pkg>/<file>, or postgresql://...?table=t (default: the spec's)",
    )
    .option('--batch <id>', 'batch id (default: yyyymmdd-hhmm now); re-running a batch replaces it')
    .option('--as-of <iso-time>', 'time the freshness gate measures against (default: now)')
    .option('--chunk-rows <n>', 'rows per checkpointed chunk')
    .option('--no-wait', 'start the workflow and return');
  cmd.action(
    action(
      cmd,
      async (
        { config, print },
        opts: { spec: string; source?: string; batch?: string; asOf?: string; chunkRows?: string; wait: boolean },
      ) => {
        const client = await connectClient(config);
        try {
          const handle = await startIngestion(client, config, {
            spec: opts.spec,
            source: opts.source,
            batch: opts.batch,
            asOf: opts.asOf,
            chunkRows: opts.chunkRows,
          }).catch((e) => {
            throw e instanceof InvalidRequestError ? new UsageError(e.message) : e;
          });
          const url = workflowUiUrl(
            config.TEMPORAL_UI_URL,
            config.TEMPORAL_NAMESPACE,
            handle.workflowId,
            handle.firstExecutionRunId,
          );
          if (!opts.wait)
            return print(`started ${handle.workflowId}\nTemporal UI: ${url}`, {
              workflowId: handle.workflowId,
              uiUrl: url,
            });
          console.error(`started ${handle.workflowId}, waiting (Temporal UI: ${url})`);
          try {
            const r = await handle.result();
            print(
              `${handle.workflowId}: ${r.rowsRead} rows read = ${r.rowsAccepted} accepted + ${r.rowsRejected} dead letters (source says ${r.sourceRows})\n` +
                `dataset ${r.datasetUri}\ndead letters ${r.deadLettersUri}\ngate report ${r.reportUri} (${r.warnings} warnings)\nhash ${r.outputHash}\nTemporal UI: ${url}`,
              { workflowId: handle.workflowId, uiUrl: url, ...r },
            );
          } catch (error) {
            if (error instanceof WorkflowFailedError)
              throw new Error(`${handle.workflowId} failed: ${describeFailure(error)} (${url})`);
            throw error;
          }
        } finally {
          await client.connection.close();
        }
      },
    ),
  );
}
