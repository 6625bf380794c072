import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { artifactStoreFor } from '../data/open-artifact-store';
import { openDuckDb } from '../data/duckdb';
import { approvalView, decide, pendingApprovals, startTraining } from '../client/training';
import { openMetadataStore } from '../store/database';
import { openOnlineStore } from '../features/online-store-factory';
import { startServing } from '../serving/server';
import { workflowUiUrl } from '../temporal/ui-links';
import { formatReview } from '../cli/review-text';
import { table } from '../cli/output';
import { outcomeText, untilApprovalOrEnd } from './run-outcome';

type Say = (text: string) => void;

const ENGINEER = 'ana';
const REVIEWER = 'ben';

/**
 * Train the flight-delay model on January-February, stop at the human gate, show what the reviewer
 * reads, let the initiator's own approval be refused (four eyes), approve as another reviewer, and
 * serve a prediction from the promoted model. On a re-run the same data gives the same model, which
 * the quality gate stops (it is no better than production): the demo says so and serves production.
 */
export async function trainingDemo(
  client: Client,
  config: Config,
  logger: Logger,
  say: Say,
  window: { from: string; to: string },
): Promise<void> {
  const handle = await startTraining(client, config, {
    spec: 'flights',
    ...window,
    initiatedBy: ENGINEER,
    reason: 'demo: first model on January-February',
  });
  const ui = workflowUiUrl(config.TEMPORAL_UI_URL, config.TEMPORAL_NAMESPACE, handle.workflowId);
  say(`   started ${handle.workflowId} as ${ENGINEER}: ${ui}`);
  const outcome = await untilApprovalOrEnd(handle);
  if (outcome.state !== 'awaiting approval') {
    say(`   stopped before approval: ${outcomeText(outcome)}`);
    if (outcome.state === 'failed')
      say(
        '   (a re-run trains the same model on the same data; the quality gate refuses a candidate no better than production)',
      );
  } else {
    const pending = await pendingListing(client, handle.workflowId);
    say(`\n   mlpipe pending: ${pending.length} run(s) waiting for a reviewer`);
    say(
      indent(
        table(
          ['workflow', 'model'],
          pending.map((p) => [p.workflowId, p.modelName ?? '']),
        ),
      ),
    );
    say(`\n   mlpipe review ${handle.workflowId}:`);
    say(indent(formatReview(handle.workflowId, await approvalView(client, handle.workflowId))));
    try {
      await decide(client, handle.workflowId, { decision: 'approve', reviewer: ENGINEER });
      throw new Error('the initiator approved their own run: the four-eyes rule failed');
    } catch (error) {
      if (error instanceof Error && /four-eyes rule failed/.test(error.message)) throw error;
      say(
        `\n   mlpipe approve --reviewer ${ENGINEER}: refused (${(error as { cause?: Error }).cause?.message ?? (error as Error).message})`,
      );
    }
    const decision = await decide(client, handle.workflowId, {
      decision: 'approve',
      reviewer: REVIEWER,
      comment: 'beats the base rate on every segment; skew check clean',
    });
    say(`   mlpipe approve --reviewer ${REVIEWER}: approved at ${decision.at}`);
    const result = await handle.result();
    say(`   ${result.modelName} v${result.version} promoted to production; monitoring baseline ${result.baselineUri}`);
  }
  await servePrediction(config, logger, say);
}

/** `mlpipe pending` once it lists this run: visibility indexes the AwaitingApproval stage a moment after the workflow reaches it. */
async function pendingListing(
  client: Client,
  workflowId: string,
): Promise<Awaited<ReturnType<typeof pendingApprovals>>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const pending = await pendingApprovals(client, 'flight-delay');
    if (pending.some((p) => p.workflowId === workflowId) || Date.now() > deadline) return pending;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** What `mlpipe serve` answers: a prediction server on a loopback port, one request, its logged answer. */
async function servePrediction(config: Config, logger: Logger, say: Say): Promise<void> {
  const store = await openMetadataStore(config.databaseUrl);
  const online = openOnlineStore(config.MLPIPE_ONLINE_STORE_URL, store.db);
  const duck = await openDuckDb();
  const server = await startServing(
    { logger, store, online, duck, artifacts: artifactStoreFor(config) },
    { host: '127.0.0.1', port: 0 },
  );
  try {
    const row = { date: '2001-03-01T17:45:00', origin: 'ORD', destination: 'LAX', distance: 1745 };
    const response = await fetch(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'flight-delay', rows: [row] }),
    });
    const body = (await response.json()) as {
      version?: number;
      predictions?: { score: number; positive: boolean; featureSources: Record<string, string> }[];
      error?: string;
    };
    if (!response.ok || !body.predictions) throw new Error(`POST /predict answered ${response.status}: ${body.error}`);
    const [p] = body.predictions;
    say(`\n   mlpipe serve: POST ${server.url}/predict ${JSON.stringify(row)}`);
    say(
      `   -> production v${body.version}: P(15+ min late) = ${p!.score.toFixed(3)} (${p!.positive ? 'late' : 'on time'} at the spec's threshold); logged for monitoring`,
    );
  } finally {
    await server.close();
    duck.closeSync();
    await online.close();
    await store.close();
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `     ${l}`)
    .join('\n');
}
