import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { artifactStoreFor } from '../data/open-artifact-store';
import { startBackfill } from '../client/features';
import { startMonitoring } from '../client/monitoring';
import { workflowUiUrl } from '../temporal/ui-links';
import { table } from '../cli/output';
import { outcomeText, untilApprovalOrEnd } from './run-outcome';
import type { MonitoringReport } from '../monitoring/report-types';
import fs from 'node:fs/promises';

type Say = (text: string) => void;

/**
 * Watch the January-February model on March-June: the features of those months are backfilled, the
 * monitoring run batch-scores them, measures drift against the promotion baseline, writes the report,
 * and starts the retraining child the spec's trigger calls for (once: a re-run finds it already done).
 */
export async function monitoringDemo(
  client: Client,
  config: Config,
  say: Say,
  window: { from: string; to: string },
): Promise<void> {
  // History: a month of days per child run (one statement each), two at a time.
  const backfill = await startBackfill(client, config, { spec: 'flights', ...window, concurrency: 2, daysPerRun: 31 });
  const b = await backfill.result();
  say(
    `   features ${window.from}..${window.to}, 31 days per run: ${b.total} partitions (${b.computed} computed, ${b.alreadyDone} already done)`,
  );
  const handle = await startMonitoring(client, config, { spec: 'flights', ...window });
  const result = await handle.result();
  const dir = await artifactStoreFor(config).open(result.reportUri);
  const report = JSON.parse(await fs.readFile(path.join(dir, 'report.json'), 'utf8')) as MonitoringReport;
  say(
    `   ${handle.workflowId}: ${report.predictions.batch} predictions batch-scored with v${result.version}, ${report.predictions.serving} served, ${report.predictions.labelled} labelled`,
  );
  if (report.performance)
    say(
      `   AUC ${report.performance.overall.auc.toFixed(4)} on the window against ${report.performance.reference.auc.toFixed(4)} on the model's test split`,
    );
  const segments = report.performance?.bySegment ?? [];
  if (segments.length)
    say(
      `   per segment: ${segments.map((g) => `${g.name} ${g.auc?.toFixed(4) ?? '-'} (test ${g.referenceAuc?.toFixed(4) ?? '-'})`).join(', ')}`,
    );
  say(
    indent(
      table(
        ['feature', 'method', 'statistic', 'threshold', 'drifted', 'mean then -> now'],
        [...report.drift.columns, ...(report.drift.prediction ? [report.drift.prediction] : [])].map((c) => [
          c.column,
          c.method,
          c.statistic.toFixed(4),
          c.threshold,
          c.drifted ? 'YES' : 'no',
          `${c.referenceMean.toFixed(3)} -> ${c.currentMean.toFixed(3)}`,
        ]),
      ),
    ),
  );
  say(
    `   dataset drift: ${report.drift.dataset.drifted ? 'yes' : 'no'} (${report.drift.dataset.driftedColumns} of ${report.drift.dataset.columns} features)`,
  );
  if (result.retraining.started && result.retraining.workflowId) {
    // The child outlives this run: say what became of it (at the gate, or stopped by it), not what it may do.
    const outcome = await untilApprovalOrEnd(client.workflow.getHandle(result.retraining.workflowId));
    say(`   retraining child started: ${result.retraining.workflowId}, ${outcomeText(outcome)}`);
    say(`     why: ${result.retraining.why}`);
    say(`     ${workflowUiUrl(config.TEMPORAL_UI_URL, config.TEMPORAL_NAMESPACE, result.retraining.workflowId)}`);
  } else {
    say(`   retraining: ${result.retraining.why}`);
  }
  say(`   report: ${path.join(dir, 'report.html')}`);
  say(`   Temporal UI: ${workflowUiUrl(config.TEMPORAL_UI_URL, config.TEMPORAL_NAMESPACE, handle.workflowId)}`);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `     ${l}`)
    .join('\n');
}
