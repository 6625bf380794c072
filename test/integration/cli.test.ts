import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mlpipe } from '../helpers/cli';
import { connect, startWorker, testConfig, uniqueTaskQueue } from '../helpers/temporal';
import { freshAsOf, writeSource } from '../helpers/sources';

/** The client scripts as engineers and operators run them: exit codes and one-line reasons. */
const config = testConfig();
const env = { MLPIPE_DATA_DIR: config.dataDir, MLPIPE_DATABASE_URL: '' };

function oneLine(text: string): string {
  const lines = text.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${text}`);
  return lines[0]!;
}

describe('mlpipe without a server', () => {
  test('--help lists the commands and exits 0', async () => {
    const r = await mlpipe(['--help']);
    assert.equal(r.code, 0);
    for (const command of ['server', 'worker', 'ingest', 'status', 'alerts', 'demo'])
      assert.match(r.stdout, new RegExp(`\\b${command}\\b`));
  });

  test('every command has --help', async () => {
    for (const command of ['server', 'worker', 'ingest', 'status', 'alerts', 'demo']) {
      const r = await mlpipe([command, '--help']);
      assert.equal(r.code, 0, `${command} --help`);
      assert.match(r.stdout, /Usage: mlpipe/);
    }
  });

  test('worker with an unreachable TEMPORAL_ADDRESS prints one clear error and exits 1', async () => {
    const r = await mlpipe(['worker'], {
      ...env,
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      TEMPORAL_CONNECT_TIMEOUT_MS: '3000',
    });
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), /^mlpipe worker: .*Temporal server at 127\.0\.0\.1:1/);
  });

  test('a malformed setting names the variable and exits 2', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ TEMPORAL_ADDRESS: 'not an address' }, /TEMPORAL_ADDRESS: expected host:port/],
      [{ WORKER_MAX_CONCURRENT_ACTIVITIES: 'many' }, /WORKER_MAX_CONCURRENT_ACTIVITIES/],
      [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
      [{ TEMPORAL_TLS_CERT_PATH: '/tmp/cert.pem' }, /TEMPORAL_TLS_KEY_PATH/],
    ];
    for (const [bad, message] of cases) {
      const r = await mlpipe(['worker'], { ...env, ...bad });
      assert.equal(r.code, 2, JSON.stringify(bad));
      assert.match(oneLine(r.stderr), message);
    }
  });

  test('an unknown option or a missing argument exits 2', async () => {
    assert.equal((await mlpipe(['ingest', '--spec', 'flights', '--bogus'])).code, 2);
    assert.equal((await mlpipe(['review'])).code, 2);
  });
});

describe('mlpipe against the server', () => {
  const taskQueue = uniqueTaskQueue('cli');
  const withQueue = { ...env, TEMPORAL_TASK_QUEUE: taskQueue };
  let worker: { stop(): Promise<void> };
  before(async () => {
    worker = await startWorker(config, taskQueue);
  });
  after(async () => worker.stop());

  test('ingest runs a batch; status shows its stage, steps and UI link', async () => {
    const source = await writeSource(
      config,
      'cli.parquet',
      `SELECT * FROM flights WHERE date < TIMESTAMP '2001-01-04'`,
    );
    const asOf = await freshAsOf(config, source);
    const run = await mlpipe(
      ['ingest', '--spec', 'flights', '--source', source, '--batch', 'cli-1', '--as-of', asOf, '--json'],
      withQueue,
    );
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout);
    assert.equal(result.workflowId, 'ingest/flights/cli-1');
    assert.equal(result.rowsRead, result.rowsAccepted + result.rowsRejected);

    const status = await mlpipe(['status', 'ingest/flights/cli-1', '--json'], withQueue);
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout);
    assert.equal(s.status, 'COMPLETED');
    assert.equal(s.progress.stage, 'Completed');
    assert.deepEqual(
      s.progress.steps.map((x: { name: string }) => x.name),
      ['Ingesting', 'QualityGates', 'Publishing'],
    );
    assert.ok(
      s.uiUrl.includes(`/namespaces/${config.TEMPORAL_NAMESPACE}/workflows/ingest%2Fflights%2Fcli-1/`),
      s.uiUrl,
    );

    const text = await mlpipe(['status', 'ingest/flights/cli-1'], withQueue);
    assert.match(text.stdout, /COMPLETED, stage Completed/);
    assert.match(text.stdout, /Temporal UI: http/);

    // What an operator sees in the UI: the run's static summary and a summary on every activity.
    const client = await connect(config);
    try {
      const handle = client.workflow.getHandle('ingest/flights/cli-1');
      const description = await handle.describe();
      assert.equal(await description.staticSummary(), 'Ingest flights batch cli-1');
      assert.match((await description.staticDetails()) ?? '', /Contract: flights 1\.0\.0/);
      const converter = client.options.loadedDataConverter.payloadConverter;
      const summaries = ((await handle.fetchHistory()).events ?? [])
        .filter((e) => e.activityTaskScheduledEventAttributes)
        .map((e) => (e.userMetadata?.summary ? converter.fromPayload(e.userMetadata.summary) : undefined));
      assert.deepEqual(summaries, [
        'ingest flights batch cli-1',
        'quality gates flights cli-1',
        'publish flights cli-1',
      ]);
      assert.deepEqual(description.searchAttributes.PipelineKind, ['ingestion']);
      assert.deepEqual(description.searchAttributes.PipelineStage, ['Completed']);
    } finally {
      await client.connection.close();
    }
  });

  test('a source outside the data directory is refused with a one-line reason and exit 1', async () => {
    const r = await mlpipe(
      ['ingest', '--spec', 'flights', '--source', '../../etc/passwd.csv', '--batch', 'escape'],
      withQueue,
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr.trim().split('\n').pop()!, /SourceNotFound: .*outside the data directory/);

    const alerts = await mlpipe(['alerts', '--json'], withQueue);
    assert.equal(alerts.code, 0, alerts.stderr);
    const raised = (
      JSON.parse(alerts.stdout) as { workflowId: string; code: string; severity: string; uiUrl: string }[]
    ).filter((a) => a.workflowId === 'ingest/flights/escape');
    assert.equal(raised.length, 1, 'one alert for the failed run');
    assert.equal(raised[0]!.code, 'SourceNotFound');
    assert.equal(raised[0]!.severity, 'critical');
    assert.match(raised[0]!.uiUrl, /ingest%2Fflights%2Fescape/);
    const text = await mlpipe(['alerts', '--limit', '5'], withQueue);
    assert.match(text.stdout, /critical\s+SourceNotFound/);
    assert.equal((await mlpipe(['alerts', '--limit', 'x'], withQueue)).code, 2);
  });

  test('bad arguments are refused before anything starts (exit 2)', async () => {
    const unknownSpec = await mlpipe(['ingest', '--spec', 'nope'], withQueue);
    assert.equal(unknownSpec.code, 2);
    assert.match(oneLine(unknownSpec.stderr), /unknown spec "nope"/);
    const badBatch = await mlpipe(['ingest', '--spec', 'flights', '--batch', 'a/b'], withQueue);
    assert.equal(badBatch.code, 2);
    assert.match(oneLine(badBatch.stderr), /batch/);
  });

  test('status of an unknown workflow exits 1 with a reason', async () => {
    const r = await mlpipe(['status', 'ingest/flights/never-ran'], withQueue);
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), /not found/i);
  });
});
