import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import { ApplicationFailure, WorkflowFailedError, type Client } from '@temporalio/client';
import { startIngestion } from '../../src/client/ingestion';
import { startTraining } from '../../src/client/training';
import { startMonitoring } from '../../src/client/monitoring';
import { startBackfill } from '../../src/client/features';
import { startSensorLook } from '../../src/client/daily';
import { artifactStoreFor } from '../../src/data/open-artifact-store';
import { openDuckDb, sqlString, withConnection } from '../../src/data/duckdb';
import { openOnlineStore } from '../../src/features/online-store-factory';
import type { OnlineStore } from '../../src/features/online-store';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { loadProject } from '../../src/project/load-project';
import { checkSpecVersions } from '../../src/project/spec-versions-check';
import type { GateReport } from '../../src/quality/gate-report';
import { buildServingApp } from '../../src/serving/app';
import { openMetadataStore, type MetadataStore } from '../../src/store/database';
import { parseSpec, registerSpec } from '../../src/specs';
import { mlpipe } from '../helpers/cli';
import { FLIGHTS, query } from '../helpers/sources';
import { testConfig, uniqueTaskQueue, useWorker } from '../helpers/temporal';
import { CASES, FIXTURE_FILES, type BadInputCase, type Expected, type SourceBuild } from '../fixtures/bad-inputs/cases';
import { BAD_INPUTS_AS_OF, badInputsDailySpec, badInputsSpec } from '../fixtures/bad-inputs/spec';

/**
 * The bad-input corpus (test/fixtures/bad-inputs): every case ends in a clear error or in dead
 * letters with reasons; never a crash, a hang, a partial publish or a silent drop.
 */
const spec = registerSpec(badInputsSpec);
const dailySpec = registerSpec(badInputsDailySpec);
const config = testConfig();
const taskQueue = uniqueTaskQueue('bad-inputs');
const temporal = useWorker(config, taskQueue);
const artifacts = artifactStoreFor(config);
const env = { MLPIPE_DATA_DIR: config.dataDir, MLPIPE_DATABASE_URL: '', TEMPORAL_TASK_QUEUE: taskQueue };

/** No case may take longer: a hang fails the case instead of the whole run. */
const CASE_TIMEOUT_MS = 60_000;
const CONCURRENCY = 4;

/** What one case observed, for the assertion and for the summary. */
interface Observed {
  kind: 'error' | 'published' | 'exit' | 'http' | 'chained';
  /** Sensor cases: the days each look handed to a chain. */
  looks?: string[][];
  type?: string;
  message?: string;
  report?: GateReport;
  workflowId?: string;
  batch?: string;
  contract?: { name: string; version: string };
  result?: { rowsRead: number; rowsAccepted: number; rowsRejected: number; sourceRows: number; deadLettersUri: string };
  code?: number;
  stderr?: string;
  status?: number;
  body?: Record<string, unknown>;
}

let duck: DuckDBInstance;
let store: MetadataStore;
let online: OnlineStore;
let app: ReturnType<typeof buildServingApp>;

before(async () => {
  duck = await openDuckDb();
  store = await openMetadataStore(config.databaseUrl);
  online = openOnlineStore(config.MLPIPE_ONLINE_STORE_URL, store.db);
  app = buildServingApp({ logger: createLogger('silent'), store, online, duck, artifacts });
  await app.ready();
  await temporal.ready();
});

after(async () => {
  await app?.close();
  await online?.close();
  await store?.close();
  duck?.closeSync();
});

/** Writes a case's source under `sources/` and returns its path relative to the data directory. */
async function buildSource(build: SourceBuild): Promise<string> {
  const dir = path.join(config.dataDir, 'sources');
  fs.mkdirSync(dir, { recursive: true });
  if ('file' in build) {
    fs.copyFileSync(path.join(FIXTURE_FILES, build.file), path.join(dir, build.file));
    return path.join('sources', build.file);
  }
  const file = path.join(dir, build.name);
  if ('bytes' in build) {
    fs.writeFileSync(file, build.bytes());
    return path.join('sources', build.name);
  }
  const select = 'query' in build ? build.query : build.truncatedParquet;
  const format = build.name.endsWith('.csv') ? '(FORMAT csv, HEADER true)' : '(FORMAT parquet)';
  await withConnection(duck, async (conn) => {
    await conn.run(`CREATE OR REPLACE TEMP VIEW flights AS SELECT * FROM read_parquet(${sqlString(FLIGHTS)})`);
    await conn.run(`COPY (${select}) TO ${sqlString(file)} ${format}`);
  });
  if ('truncatedParquet' in build) {
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
  }
  return path.join('sources', build.name);
}

/** Pins a project's spec versions in the metadata store the CLI of `env` uses, as a first run would. */
async function pinSpecVersions(projectDir: string): Promise<void> {
  const cliStore = await openMetadataStore(loadConfig({ ...process.env, ...env }).databaseUrl);
  try {
    await checkSpecVersions(await loadProject(projectDir), cliStore, true);
  } finally {
    await cliStore.close();
  }
}

async function asOfFor(c: BadInputCase, source: string | undefined): Promise<string> {
  if (c.feed.kind !== 'ingest' || c.feed.asOf !== 'newest+1h' || !source)
    return c.feed.kind === 'ingest' && c.feed.spec === 'flights' ? '2001-01-02T00:00:00Z' : BAD_INPUTS_AS_OF;
  // The newest ordinary event (the real flights), an hour later: only the bad row is in the future.
  const [row] = await query<{ t: string }>(
    `SELECT strftime(max(date) + INTERVAL 1 HOUR, '%Y-%m-%dT%H:%M:%SZ') AS t FROM read_parquet(${sqlString(path.join(config.dataDir, source))}) WHERE date < TIMESTAMP '2002-01-01'`,
  );
  return row!.t;
}

/** A workflow's failure as type and message; anything else (a hang is a timeout) is rethrown. */
function failureOf(error: unknown): Observed {
  if (error instanceof WorkflowFailedError) {
    const cause = error.cause;
    if (cause instanceof ApplicationFailure) {
      const details = (cause.details?.[0] ?? {}) as { report?: GateReport };
      return {
        kind: 'error',
        type: cause.type ?? 'ApplicationFailure',
        message: cause.message,
        report: details.report,
      };
    }
    return { kind: 'error', type: cause?.name ?? 'WorkflowFailedError', message: cause?.message ?? error.message };
  }
  if (error instanceof Error) {
    // A client or server refusal says why in its cause (a gRPC status).
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return { kind: 'error', type: error.name, message: `${error.message}${cause}` };
  }
  throw error;
}

async function runCase(c: BadInputCase, client: Client): Promise<Observed> {
  const feed = c.feed;
  switch (feed.kind) {
    case 'ingest': {
      const source = feed.build ? await buildSource(feed.build) : feed.uri!;
      const { contract: fed } = {
        flights: { contract: { name: 'flights', version: '1.0.0' } },
        'bad-inputs': spec,
        'bad-inputs-daily': dailySpec,
      }[feed.spec];
      const contract = { name: fed.name, version: fed.version };
      const batch = feed.batch ?? c.id;
      const handle = await startIngestion(client, config, {
        spec: feed.spec,
        batch,
        source,
        asOf: await asOfFor(c, source),
        taskQueue,
        chunkRows: 1000,
      });
      try {
        const result = await handle.result();
        return { kind: 'published', workflowId: handle.workflowId, batch, contract, result };
      } catch (error) {
        return { ...failureOf(error), workflowId: handle.workflowId, batch, contract };
      }
    }
    case 'client': {
      const starters = {
        ingestion: () => startIngestion(client, config, { taskQueue, ...feed.request } as never),
        training: () => startTraining(client, config, { taskQueue, ...feed.request } as never),
        monitoring: () => startMonitoring(client, config, { taskQueue, ...feed.request } as never),
        backfill: () => startBackfill(client, config, { taskQueue, ...feed.request } as never),
      };
      try {
        const handle = await starters[feed.starter]();
        // It should never have started; stop it so it does not run on.
        await handle.terminate('bad-inputs: a request that should have been refused').catch(() => {});
        return { kind: 'published', workflowId: handle.workflowId };
      } catch (error) {
        return failureOf(error);
      }
    }
    case 'workflow': {
      try {
        const handle = await client.workflow.start(feed.workflow, {
          workflowId: `bad-inputs/${c.id}`,
          taskQueue,
          args: [feed.arg()],
        });
        try {
          await handle.result();
          return { kind: 'published', workflowId: handle.workflowId };
        } catch (error) {
          return { ...failureOf(error), workflowId: handle.workflowId };
        }
      } catch (error) {
        // Refused by the server before any worker saw it.
        return failureOf(error);
      }
    }
    case 'spec':
      try {
        parseSpec(feed.spec());
        return { kind: 'published' };
      } catch (error) {
        return failureOf(error);
      }
    case 'sensor': {
      const folder = path.join(config.dataDir, 'incoming', c.id);
      fs.mkdirSync(folder, { recursive: true });
      const looks: string[][] = [];
      for (const files of feed.looks) {
        for (const file of files) {
          // Written aside, then moved in whole, as a delivery must arrive.
          const staged = path.join(config.dataDir, `${c.id}-${file.name}.partial`);
          fs.writeFileSync(staged, file.bytes());
          fs.renameSync(staged, path.join(folder, file.name));
        }
        const pattern = `incoming/${c.id}/night-{day}*.csv`;
        const handle = await startSensorLook(client, config, { spec: dailySpec.name, pattern, taskQueue });
        looks.push((await handle.result()).delivered.map((d) => d.day));
      }
      return { kind: 'chained', looks, contract: dailySpec.contract };
    }
    case 'cli': {
      if (feed.pinnedFirst) await pinSpecVersions(feed.pinnedFirst);
      const r = await mlpipe(feed.args, { ...env, ...feed.env }, CASE_TIMEOUT_MS - 5_000);
      return { kind: 'exit', code: r.code, stderr: r.stderr };
    }
    case 'http': {
      const response = await app.inject({
        method: 'POST',
        url: '/predict',
        headers: { 'content-type': feed.contentType ?? 'application/json', ...feed.headers },
        payload: feed.body,
      });
      let body: Record<string, unknown> = {};
      try {
        body = response.json();
      } catch {
        body = { error: `(not JSON) ${response.body.slice(0, 200)}` };
      }
      return { kind: 'http', status: response.statusCode, body };
    }
  }
}

/** Dead letters of a batch, from where they are: published, or still staged after a stopped run. */
async function deadLetterReasons(dir: string): Promise<string[]> {
  if (!fs.existsSync(dir) || !fs.readdirSync(dir).some((f) => f.endsWith('.parquet'))) return [];
  const rows = await query<{ reason: string }>(
    `SELECT reason FROM read_parquet(${sqlString(`${dir}/*.parquet`)}, union_by_name = true)`,
  );
  return rows.map((r) => r.reason);
}

/** Every pattern matches a distinct reason, and there are no other reasons. */
function assertReasons(reasons: string[], patterns: RegExp[]): void {
  const left = [...reasons];
  for (const pattern of patterns) {
    const i = left.findIndex((r) => pattern.test(r));
    assert.ok(i >= 0, `no dead letter matches ${pattern} among ${JSON.stringify(left.map((r) => r.slice(0, 160)))}`);
    left.splice(i, 1);
  }
  assert.deepEqual(left, [], 'dead letters nobody expected');
}

async function check(c: BadInputCase, o: Observed): Promise<void> {
  const e: Expected = c.expect;
  const batchKey = (kind: 'datasets' | 'dead-letters') =>
    o.contract && o.batch
      ? { kind, name: o.contract.name, version: o.contract.version, partition: o.batch }
      : undefined;
  const [datasetKey, deadLettersKey] = [batchKey('datasets'), batchKey('dead-letters')];
  switch (e.outcome) {
    case 'error':
      assert.equal(o.kind, 'error', `expected ${e.type}, got ${JSON.stringify(o).slice(0, 500)}`);
      assert.equal(o.type, e.type, o.message);
      assert.match(o.message ?? '', e.message);
      break;
    case 'gateFailed': {
      assert.equal(o.kind, 'error', `expected a ${e.gate} gate failure, got ${JSON.stringify(o).slice(0, 500)}`);
      assert.equal(o.type, 'DataQualityGateFailed', o.message);
      const report = o.report;
      assert.ok(report, 'the failure carries the gate report');
      const failed = report.checks.filter((k) => k.verdict === 'fail' && k.severity === 'blocking');
      assert.ok(
        failed.some((k) => k.gate === e.gate && e.detail.test(k.detail)),
        `no failing ${e.gate} check matching ${e.detail}: ${JSON.stringify(failed)}`,
      );
      // What was staged reconciles, even though it is not published.
      const reconciliation = report.checks.filter((k) => k.gate === 'reconciliation');
      assert.equal(reconciliation.length, 2);
      for (const k of reconciliation) assert.equal(k.verdict, 'pass', k.detail);
      assert.match(
        reconciliation[0]!.observed,
        new RegExp(`^read ${e.rowsRead}, accepted \\+ rejected ${e.rowsRead}$`),
      );
      const staged = artifacts.stagingDir({
        kind: 'dead-letters',
        name: o.contract!.name,
        version: o.contract!.version,
        partition: o.batch!,
      });
      assert.equal((await deadLetterReasons(staged)).length, e.rejected, 'the staged dead letters');
      break;
    }
    case 'deadLetters': {
      assert.equal(o.kind, 'published', `expected a published batch, got ${JSON.stringify(o).slice(0, 500)}`);
      const r = o.result!;
      assert.equal(r.rowsRead, r.rowsAccepted + r.rowsRejected, 'rows read = accepted + rejected');
      assert.equal(r.sourceRows, r.rowsRead, 'every source row was read');
      assert.deepEqual(
        { read: r.rowsRead, accepted: r.rowsAccepted, rejected: r.rowsRejected },
        { read: e.rowsRead, accepted: e.accepted, rejected: e.rejected },
      );
      const reasons = await deadLetterReasons(await artifacts.open(r.deadLettersUri));
      assert.equal(reasons.length, r.rowsRejected, 'one dead letter per rejected row');
      assertReasons(reasons, e.reasons);
      const [accepted] = await query<{ n: number }>(
        `SELECT count(*) AS n FROM read_parquet(${sqlString(`${await artifacts.openKey(datasetKey!)}/*.parquet`)})`,
      );
      assert.equal(Number(accepted!.n), r.rowsAccepted, 'the published dataset holds the accepted rows');
      break;
    }
    case 'exit':
      assert.equal(o.code, e.code, `exit code; stderr: ${o.stderr}`);
      assert.match(o.stderr ?? '', e.stderr);
      assert.equal((o.stderr ?? '').trim().split('\n').length, 1, `one line on stderr: ${o.stderr}`);
      break;
    case 'http':
      assert.equal(o.status, e.status, JSON.stringify(o.body));
      assert.match(String(o.body?.error ?? ''), e.error);
      break;
    case 'chained':
      assert.deepEqual(o.looks, e.perLook);
      for (const day of e.perLook.flat()) {
        const partition = await artifacts.openKey({ kind: 'datasets', ...o.contract!, partition: day });
        const [rows] = await query<{ n: number }>(
          `SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(`${partition}/*.parquet`)})`,
        );
        assert.equal(rows!.n, 3, `${day} is published with its night's rows, once`);
      }
      break;
  }
  // A stopped ingestion publishes nothing.
  if (e.outcome !== 'deadLetters' && datasetKey) {
    assert.equal(
      await artifacts.isPublished(datasetKey),
      false,
      `a stopped batch must not publish a dataset (${artifacts.uri(datasetKey)})`,
    );
    assert.equal(await artifacts.isPublished(deadLettersKey!), false, 'nor its dead letters');
  }
}

async function withTimeout<T>(what: string, run: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no outcome after ${ms} ms (a hang)`)), ms)),
  );
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `items` with at most `limit` at once. */
async function pool<T>(items: T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await run(items[next++]!);
    }),
  );
}

describe('the bad-input corpus', () => {
  test('every case ends in a clear error or in dead letters with reasons', { timeout: 170_000 }, async () => {
    const ids = new Set<string>();
    for (const c of CASES) {
      assert.ok(!ids.has(c.id), `duplicate case id ${c.id}`);
      ids.add(c.id);
    }
    console.log(`bad-input corpus: ${CASES.length} cases`);
    assert.ok(CASES.length >= 20, 'at least 20 cases');

    const client = temporal.client;
    const failures: string[] = [];
    const started = Date.now();
    await pool(CASES, CONCURRENCY, async (c) => {
      const t0 = Date.now();
      try {
        const observed = await withTimeout(c.id, runCase(c, client), CASE_TIMEOUT_MS);
        await check(c, observed);
        console.log(`  ok   ${c.id} (${Date.now() - t0} ms): ${summary(observed)}`);
      } catch (error) {
        failures.push(`${c.id} (${c.what}): ${(error as Error).message}`);
        console.log(
          `  FAIL ${c.id} (${Date.now() - t0} ms): ${(error as Error).message.split('\n').slice(0, 6).join(' | ')}`,
        );
        if (c.feed.kind === 'ingest' || c.feed.kind === 'workflow') {
          const id = c.feed.kind === 'ingest' ? `ingest/${c.feed.spec}/${c.id}` : `bad-inputs/${c.id}`;
          await client.workflow
            .getHandle(id)
            .terminate('bad-inputs: case failed')
            .catch(() => {});
        }
      }
    });
    console.log(
      `bad-input corpus: ${CASES.length - failures.length} of ${CASES.length} as expected in ${Date.now() - started} ms`,
    );
    assert.deepEqual(failures, []);

    // The worker survived all of it: an ordinary batch still ingests.
    fs.writeFileSync(
      path.join(config.dataDir, 'sources', 'canary.csv'),
      'ts,amount,qty,label\n2024-01-01 00:00:00,1.5,3,a\n2024-01-01 01:00:00,2.5,4,b\n',
    );
    const canary = await startIngestion(client, config, {
      spec: spec.name,
      batch: 'canary',
      source: 'sources/canary.csv',
      asOf: BAD_INPUTS_AS_OF,
      taskQueue,
    });
    const result = await withTimeout('canary', canary.result(), 30_000);
    assert.deepEqual([result.rowsRead, result.rowsAccepted, result.rowsRejected], [2, 2, 0]);
  });
});

function summary(o: Observed): string {
  switch (o.kind) {
    case 'error':
      return `${o.type}: ${(o.message ?? '').slice(0, 140)}`;
    case 'published':
      return o.result
        ? `read ${o.result.rowsRead} = accepted ${o.result.rowsAccepted} + rejected ${o.result.rowsRejected}`
        : 'started';
    case 'exit':
      return `exit ${o.code}: ${(o.stderr ?? '').trim().slice(0, 140)}`;
    case 'http':
      return `${o.status} ${String(o.body?.error ?? '').slice(0, 140)}`;
    case 'chained':
      return `looks chained ${JSON.stringify(o.looks)}`;
  }
}
