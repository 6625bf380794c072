import path from 'node:path';
import fs from 'node:fs/promises';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { openDuckDb, queryRows, sqlString, withConnection } from '../data/duckdb';
import { artifactStoreFor } from '../data/open-artifact-store';
import { resolveSourceUri } from '../data/source-uri';
import { loadSpec } from '../specs';
import { startIngestion } from '../client/ingestion';
import { startBackfill } from '../client/features';
import { openMetadataStore } from '../store/database';
import { SqlOnlineStore } from '../features/sql-online-store';
import { lookupEntity } from '../features/lookup';
import { servingPolicies } from '../features/serving-policies';
import { workflowUiUrl } from '../temporal/ui-links';
import { describeFailure } from '../cli/failure-text';
import { table } from '../cli/output';
import { trainingDemo } from './training-demo';
import { monitoringDemo } from './monitoring-demo';
import { challengerDemo } from './challenger-demo';
import { startScoring } from '../client/scoring';

type Say = (text: string) => void;

/** The demo's training window: every day of January-February with a full week of history before it. */
const TRAINING_WINDOW = { from: '2001-01-08', to: '2001-02-28' };

/**
 * The main job on the embedded defaults: ingest the bundled 3M flights under their contract, backfill
 * January-February point-in-time features and read them back as serving would, train, review,
 * approve and serve the flight-delay model, train a LightGBM challenger with a Python trainer (skipped
 * without Python), monitor it on March-June (drift, report, retraining child), batch-score January-June,
 * then a nightly drop that silently lost 2% of its rows,
 * which the volume gate stops with an alert.
 */
export async function runDemo(client: Client, config: Config, logger: Logger, say: Say): Promise<void> {
  const spec = loadSpec('flights');
  const source = spec.defaultSource!; // the bundled flights spec names its file
  const asOf = '2001-07-02T00:00:00Z';
  const ui = (id: string) => workflowUiUrl(config.TEMPORAL_UI_URL, config.TEMPORAL_NAMESPACE, id);

  say(`\n1. Ingest ${source} under contract ${spec.contract.name} ${spec.contract.version}`);
  const good = await startIngestion(client, config, { spec: 'flights', batch: '2001-h1', asOf });
  const r = await good.result();
  say(
    `   ${r.rowsRead} rows read = ${r.rowsAccepted} accepted + ${r.rowsRejected} dead letters (source has ${r.sourceRows}), ${r.chunksTotal} checkpointed chunks`,
  );
  say(`   dataset ${r.datasetUri}  hash ${r.outputHash.slice(0, 16)}...`);
  await showDeadLetters(config, r.deadLettersUri, say);
  await showWarnings(config, r.reportUri, say);
  say(`   Temporal UI: ${ui(good.workflowId)}`);

  say('\n2. Backfill January-February point-in-time features (child workflows, 4 at a time)');
  const backfill = await startBackfill(client, config, { spec: 'flights', ...TRAINING_WINDOW, concurrency: 4 });
  const b = await backfill.result();
  say(`   ${b.total} partitions: ${b.computed} computed, ${b.alreadyDone} already done (a re-run skips them)`);
  say(`   Temporal UI: ${ui(backfill.workflowId)}`);
  await showOnlineLookup(config, say);

  say(
    "\n3. Train the flight-delay model on January-February: gates, staging skew check, a reviewer's approval, production",
  );
  await trainingDemo(client, config, logger, say, TRAINING_WINDOW);

  say('\n4. A LightGBM challenger from a Python trainer, compared with production on the same test rows');
  await challengerDemo(client, config, say, TRAINING_WINDOW);

  say('\n5. Monitor the January-February model on March-June: drift, the report, a retraining child');
  await monitoringDemo(client, config, say, { from: '2001-03-01', to: '2001-06-30' });

  say('\n6. Batch-score January-June with the production model: every row scored or a dead letter');
  await scoringDemo(client, config, say, { from: TRAINING_WINDOW.from, to: '2001-06-30' });

  say('\n7. A nightly drop that silently lost 2% of its rows');
  const dropped = await writeDroppedCopy(config, source);
  const bad = await startIngestion(client, config, {
    spec: 'flights',
    batch: '2001-h1-redelivered',
    source: dropped,
    asOf,
  });
  try {
    await bad.result();
    throw new Error('the 2%-short drop was published: the volume gate did not stop it');
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    say(`   stopped, as it should be: ${describeFailure(error)}`);
  }
  say(`   Temporal UI: ${ui(bad.workflowId)}`);
  say(`   see the alert with: npm run mlpipe -- alerts --limit 3`);
  logger.debug('demo finished');
}

/** `mlpipe score` over every published partition: rows in = scored + dead letters, published with lineage. */
async function scoringDemo(
  client: Client,
  config: Config,
  say: Say,
  window: { from: string; to: string },
): Promise<void> {
  const handle = await startScoring(client, config, { spec: 'flights', ...window });
  const r = await handle.result();
  say(
    `   ${handle.workflowId}: ${r.rows} rows in = ${r.scored} scored + ${r.deadLetters} dead letters, with ${r.modelName} v${r.version}`,
  );
  say(
    `   mean score ${r.distribution.mean.toFixed(4)} against the baseline's ${r.distribution.baselineMean?.toFixed(4) ?? '-'} (${r.distribution.verdict}); ${r.predictionsUri}`,
  );
  say(`   Temporal UI: ${workflowUiUrl(config.TEMPORAL_UI_URL, config.TEMPORAL_NAMESPACE, handle.workflowId)}`);
}

/** What the prediction server will read: a flight's entity features, with their age and source. */
async function showOnlineLookup(config: Config, say: Say): Promise<void> {
  const fs = loadSpec('flights').featureSet!;
  const store = await openMetadataStore(config.databaseUrl);
  try {
    const online = new SqlOnlineStore(store.db);
    const at = new Date('2001-03-01T09:30:00Z');
    say(`   online features for a flight ORD -> LAX at ${at.toISOString()}:`);
    const rows: (string | number)[][] = [];
    for (const [entity, key] of [
      ['origin', 'ORD'],
      ['destination', 'LAX'],
      ['route', 'ORD-LAX'],
    ] as const) {
      const r = await lookupEntity(online, fs.name, fs.version, entity, key, at, servingPolicies(fs, entity));
      for (const [name, f] of Object.entries(r.features))
        rows.push([
          `${entity} ${key}`,
          name,
          f.value === null ? 'null' : Number(f.value.toFixed(4)),
          f.source,
          `${r.ageHours?.toFixed(1)} h`,
        ]);
    }
    say(indent(table(['entity', 'feature', 'value', 'source', 'age'], rows)));
  } finally {
    await store.close();
  }
}

async function writeDroppedCopy(config: Config, sourceUri: string): Promise<string> {
  const source = await resolveSourceUri(sourceUri, config.dataDir);
  if (source.format !== 'parquet') throw new Error(`the demo expects a Parquet source, got ${sourceUri}`);
  const [file] = source.files;
  const rel = path.join('sources', 'flights-2pct-missing.parquet');
  const out = path.join(config.dataDir, rel);
  await fs.mkdir(path.dirname(out), { recursive: true });
  const db = await openDuckDb();
  await withConnection(db, (conn) =>
    conn.run(
      `COPY (SELECT * EXCLUDE (file_row_number) FROM read_parquet(${sqlString(file!)}, file_row_number = true) WHERE file_row_number % 50 <> 7) TO ${sqlString(out)} (FORMAT parquet)`,
    ),
  );
  db.closeSync();
  return rel;
}

async function showDeadLetters(config: Config, uri: string, say: Say): Promise<void> {
  const artifacts = artifactStoreFor(config);
  const files = await artifacts.parquetFiles(await artifacts.open(uri));
  if (!files.length) return say('   no dead letters');
  const db = await openDuckDb();
  const rows = await withConnection(db, (conn) =>
    queryRows<{ source_row: number; reason: string; record: string }>(
      conn,
      `SELECT source_row, reason, record FROM read_parquet([${files.map(sqlString).join(', ')}]) ORDER BY source_row LIMIT 5`,
    ),
  );
  db.closeSync();
  say('   dead letters (every rejected row, with its reason):');
  say(
    indent(
      table(
        ['source row', 'reason', 'record'],
        rows.map((x) => [x.source_row, x.reason, x.record]),
      ),
    ),
  );
}

async function showWarnings(config: Config, reportUri: string, say: Say): Promise<void> {
  const file = await artifactStoreFor(config).open(reportUri);
  const report = JSON.parse(await fs.readFile(file, 'utf8')) as {
    checks: { gate: string; subject: string; observed: string; expected: string; verdict: string; severity: string }[];
  };
  const failed = report.checks.filter((c) => c.verdict === 'fail');
  say(`   quality gates: ${report.checks.length} checks, ${failed.length} warnings (warnings do not stop the line):`);
  if (failed.length)
    say(
      indent(
        table(
          ['gate', 'subject', 'observed', 'expected'],
          failed.map((c) => [c.gate, c.subject, c.observed, c.expected]),
        ),
      ),
    );
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `     ${l}`)
    .join('\n');
}
