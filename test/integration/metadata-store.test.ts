import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openMetadataStore, type MetadataStore } from '../../src/store/database';
import { migrations } from '../../src/store/migrations';
import type { RunStatInput } from '../../src/store/run-stats';
import { describeOnSqlBackends } from '../helpers/sql-backends';

const REPO_ROOT = path.resolve(__dirname, '../..');
const MIGRATION_NAMES = Object.keys(migrations('sqlite')).sort();

async function migrationNames(store: MetadataStore): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(store.db);
  return rows.map((row) => row.name);
}

async function runStatRows(store: MetadataStore, subject: string): Promise<number> {
  const { n } = await store.db
    .selectFrom('run_stats')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('subject', '=', subject)
    .executeTakeFirstOrThrow();
  return Number(n);
}

/**
 * A separate Node process that loads the store module, then opens `url` on go(): releasing several
 * only once all are loaded makes their migrations actually overlap, however slow process startup is.
 */
function spawnOpener(url: string): { ready: Promise<void>; go(): void; done: Promise<void> } {
  const script = `
    const { openMetadataStore } = require(${JSON.stringify(path.join(REPO_ROOT, 'src/store/database.ts'))});
    process.stdin.once('data', () => {
      process.stdin.destroy();
      openMetadataStore(${JSON.stringify(url)}).then((store) => store.close());
    });
    process.stdout.write('ready');`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPO_ROOT });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<void>((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`opener exited ${code}: ${stderr}`)))),
  );
  const ready = Promise.race([new Promise<void>((resolve) => child.stdout.once('data', () => resolve())), done]);
  return { ready, go: () => child.stdin.write('go\n'), done };
}

const stat = (overrides: Partial<RunStatInput> & Pick<RunStatInput, 'subject' | 'batchId'>): RunStatInput => ({
  pipelineKind: 'ingest',
  workflowId: `ingest-${overrides.batchId}`,
  runId: 'run-1',
  rowsRead: 100,
  rowsAccepted: 95,
  rowsRejected: 5,
  outputUri: `file:///data/${overrides.batchId}.parquet`,
  outputHash: 'sha256:aa',
  status: 'published',
  ...overrides,
});

const lineageEntry = (outputUri: string, createdAt: string) => ({
  kind: 'dataset',
  outputUri,
  sourceUri: 'file:///raw/flights.csv',
  sourceFingerprint: 'sha256:src',
  contractName: 'flights',
  contractVersion: '1.0.0',
  rowsRead: 10,
  rowsAccepted: 9,
  rowsRejected: 1,
  outputHash: 'sha256:out-1',
  workflowId: 'wf-1',
  runId: 'run-1',
  createdAt,
});

const alert = (dedupeKey: string, createdAt: string) => ({
  dedupeKey,
  severity: 'critical' as const,
  code: 'DataQualityGateFailed',
  subject: 'flights',
  message: `volume gate failed (${dedupeKey})`,
  createdAt,
});

describeOnSqlBackends('metadata store', ({ backend, withStore }) => {
  test('migrations are idempotent: reopening keeps data and records each migration once', async () => {
    const url = await backend.freshUrl();
    const first = await openMetadataStore(url);
    await first.runStats.record(stat({ subject: 'flights', batchId: '2024-01-01' }));
    // A second open while the first is still open, as a CLI does next to a running worker.
    const second = await openMetadataStore(url);
    await first.close();
    try {
      assert.deepEqual(await migrationNames(second), MIGRATION_NAMES);
      assert.equal((await second.runStats.latestPublished('flights'))?.batchId, '2024-01-01');
    } finally {
      await second.close();
    }
  });

  test('processes opening a new store at the same moment all succeed and migrate once', async () => {
    const url = await backend.freshUrl();
    const openers = [1, 2, 3, 4].map(() => spawnOpener(url));
    await Promise.all(openers.map((opener) => opener.ready));
    for (const opener of openers) opener.go();
    await Promise.all(openers.map((opener) => opener.done));
    const store = await openMetadataStore(url);
    try {
      assert.deepEqual(await migrationNames(store), MIGRATION_NAMES);
    } finally {
      await store.close();
    }
  });

  test('run stats: re-recording a batch replaces its row', () =>
    withStore(async (store) => {
      await store.runStats.record(stat({ subject: 'flights', batchId: 'b1', status: 'failed', rowsAccepted: 0 }));
      await store.runStats.record(stat({ subject: 'flights', batchId: 'b1', runId: 'run-2', rowsAccepted: 120 }));
      assert.equal(await runStatRows(store, 'flights'), 1);
      const latest = await store.runStats.latestPublished('flights');
      assert.equal(latest?.rowsAccepted, 120);
      assert.equal(latest?.runId, 'run-2');
    }));

  test('run stats: trailing runs are newest first, published only, without the excluded batch', () =>
    withStore(async (store) => {
      const runs: RunStatInput[] = [
        stat({ subject: 'flights', batchId: 'b4', rowsAccepted: 40, createdAt: '2024-01-02T22:00:00Z' }),
        stat({ subject: 'flights', batchId: 'b1', rowsAccepted: 10, createdAt: '2024-01-01T00:00:00Z' }),
        stat({ subject: 'flights', batchId: 'b5', rowsAccepted: 50, createdAt: new Date('2024-01-05T00:00:00Z') }),
        stat({
          subject: 'flights',
          batchId: 'b3',
          rowsAccepted: 30,
          createdAt: '2024-01-02T21:00:00Z',
          status: 'failed',
        }),
        // 2024-01-02T20:00Z: as raw text it would sort after b4, so this checks timestamps are normalised.
        stat({ subject: 'flights', batchId: 'b2', rowsAccepted: 20, createdAt: '2024-01-03T01:00:00+05:00' }),
        stat({ subject: 'weather', batchId: 'b9', rowsAccepted: 999, createdAt: '2024-02-01T00:00:00Z' }),
      ];
      for (const run of runs) await store.runStats.record(run);

      const trailing = async (subject: string, lookback: number, exclude: string) =>
        (await store.runStats.trailingPublished(subject, lookback, exclude)).map((run) => run.rowsAccepted);
      assert.deepEqual(await trailing('flights', 3, 'b5'), [40, 20, 10]);
      assert.deepEqual(await trailing('flights', 2, 'b4'), [50, 20]);
      assert.deepEqual(await trailing('flights', 10, 'none'), [50, 40, 20, 10]);
      assert.deepEqual(await trailing('nobody', 3, 'b1'), []);
      // Named batches: the published ones among them, newest first (b3 failed, b7 never ran).
      const named = await store.runStats.publishedBatches('flights', ['b1', 'b3', 'b4', 'b7']);
      assert.deepEqual(
        named.map((run) => run.batchId),
        ['b4', 'b1'],
      );
      assert.deepEqual(await store.runStats.publishedBatches('flights', []), []);

      const latest = await store.runStats.latestPublished('flights');
      assert.equal(latest?.batchId, 'b5');
      assert.equal(latest?.createdAt, '2024-01-05T00:00:00.000Z');
      assert.equal((await store.runStats.latestPublished('flights', 'b5'))?.batchId, 'b4');
      assert.equal(await store.runStats.latestPublished('nobody'), undefined);
    }));

  test("deliveries: one claim per day and content; a claimant's retry is still its own; a release gives it back", () =>
    withStore(async (store) => {
      const night = {
        spec: 'flights-nightly',
        fingerprint: 'a'.repeat(64),
        sourceUri: 'incoming/night-2001-01-05.parquet',
        day: '2001-01-05',
        size: 1234,
        modifiedAt: '2001-01-06T06:00:00.000Z',
        workflowId: 'daily/flights-nightly/2001-01-05',
        claimedBy: 'sensor/look-1/run-1',
      };
      assert.equal(await store.deliveries.claim(night), true);
      assert.equal(await store.deliveries.claim(night), true, 'the same look retrying its claim');
      assert.equal(await store.deliveries.claim({ ...night, claimedBy: 'sensor/look-2/run-1' }), false, 'another look');
      // The same bytes named for another day are another delivery (an empty night is byte-identical to another).
      assert.equal(
        await store.deliveries.claim({ ...night, day: '2001-01-06', claimedBy: 'sensor/look-2/run-1' }),
        true,
      );
      assert.deepEqual([...(await store.deliveries.claimed('flights-nightly', [night.fingerprint]))].sort(), [
        `2001-01-05/${night.fingerprint}`,
        `2001-01-06/${night.fingerprint}`,
      ]);
      const files = await store.deliveries.claimedFiles('flights-nightly', [night.sourceUri, 'incoming/other.parquet']);
      assert.deepEqual([...files], [[night.sourceUri, { size: 1234, modifiedAt: night.modifiedAt }]]);
      await store.deliveries.release('flights-nightly', night.day, night.fingerprint, 'sensor/look-2/run-1');
      assert.equal(
        await store.deliveries.claim({ ...night, claimedBy: 'sensor/look-3/run-1' }),
        false,
        'only its claimant releases it',
      );
      await store.deliveries.release('flights-nightly', night.day, night.fingerprint, night.claimedBy);
      assert.equal(
        await store.deliveries.claim({ ...night, claimedBy: 'sensor/look-3/run-1' }),
        true,
        'released: offered again',
      );
    }));

  test('run stats: invalid counts are rejected before reaching the database', () =>
    withStore(async (store) => {
      await assert.rejects(store.runStats.record(stat({ subject: 'flights', batchId: 'b1', rowsRead: -1 })));
      await assert.rejects(store.runStats.record(stat({ subject: 'flights', batchId: 'b1', rowsRead: 1.5 })));
      await assert.rejects(
        store.runStats.record(stat({ subject: 'flights', batchId: 'b1', rowsRead: Number.MAX_SAFE_INTEGER + 1 })),
      );
      assert.equal(await runStatRows(store, 'flights'), 0);
    }));

  test('lineage: recording an output URI again replaces its entry', () =>
    withStore(async (store) => {
      await store.lineage.record({ ...lineageEntry('file:///out/a', '2024-01-01T00:00:00Z'), details: { gate: 'ok' } });
      await store.lineage.record({
        ...lineageEntry('file:///out/a', '2024-01-03T00:00:00Z'),
        outputHash: 'sha256:out-2',
        contractVersion: null,
        details: { gates: ['volume', 'freshness'], retries: 2 },
      });
      await store.lineage.record(lineageEntry('file:///out/b', '2024-01-02T00:00:00Z'));

      const entry = await store.lineage.get('file:///out/a');
      assert.equal(entry?.outputHash, 'sha256:out-2');
      assert.equal(entry?.contractVersion, null);
      assert.deepEqual(entry?.details, { gates: ['volume', 'freshness'], retries: 2 });
      assert.deepEqual(
        (await store.lineage.list(10)).map((e) => e.outputUri),
        ['file:///out/a', 'file:///out/b'],
      );
      assert.deepEqual(
        (await store.lineage.list(1)).map((e) => e.outputUri),
        ['file:///out/a'],
      );
      assert.equal(await store.lineage.get('file:///out/missing'), undefined);
    }));

  test('alerts: raising the same dedupe key twice stores one alert and reports the original id', () =>
    withStore(async (store) => {
      const first = await store.alerts.raise(alert('flights:2024-01-01:volume', '2024-01-01T00:00:00Z'));
      const retry = await store.alerts.raise({
        ...alert('flights:2024-01-01:volume', '2024-01-01T00:05:00Z'),
        message: 'a retry must not overwrite the original',
      });
      const other = await store.alerts.raise(alert('flights:2024-01-02:volume', '2024-01-02T00:00:00Z'));

      assert.equal(first.inserted, true);
      assert.deepEqual(retry, { inserted: false, id: first.id });
      assert.equal(other.inserted, true);
      assert.notEqual(other.id, first.id);
      const stored = await store.alerts.listRecent({ limit: 10 });
      assert.equal(stored.length, 2);
      assert.equal(stored.find((a) => a.id === first.id)?.message, 'volume gate failed (flights:2024-01-01:volume)');
    }));

  test('alerts: listRecent is newest first and honours limit and since', () =>
    withStore(async (store) => {
      await store.alerts.raise(alert('t2', '2024-01-02T00:00:00Z'));
      await store.alerts.raise({
        ...alert('t3', '2024-01-03T00:00:00Z'),
        severity: 'warning',
        observed: '812 rows',
        expected: '>= 990 rows',
        workflowId: 'wf-3',
        runId: 'run-3',
        uiUrl: 'http://127.0.0.1:8233/namespaces/default/workflows/wf-3/run-3',
        details: { ratio: 0.82 },
      });
      await store.alerts.raise(alert('t1', '2024-01-01T00:00:00Z'));

      const keys = async (options: Parameters<MetadataStore['alerts']['listRecent']>[0]) =>
        (await store.alerts.listRecent(options)).map((a) => a.dedupeKey);
      assert.deepEqual(await keys({ limit: 10 }), ['t3', 't2', 't1']);
      assert.deepEqual(await keys({ limit: 2 }), ['t3', 't2']);
      assert.deepEqual(await keys({ limit: 10, since: '2024-01-02T00:00:00Z' }), ['t3', 't2']);
      assert.deepEqual(await keys({ limit: 10, since: new Date('2024-01-02T00:00:01Z') }), ['t3']);

      const [newest] = await store.alerts.listRecent({ limit: 1 });
      assert.deepEqual(
        { ...newest, id: typeof newest?.id },
        {
          id: 'number',
          dedupeKey: 't3',
          severity: 'warning',
          code: 'DataQualityGateFailed',
          subject: 'flights',
          message: 'volume gate failed (t3)',
          observed: '812 rows',
          expected: '>= 990 rows',
          workflowId: 'wf-3',
          runId: 'run-3',
          uiUrl: 'http://127.0.0.1:8233/namespaces/default/workflows/wf-3/run-3',
          createdAt: '2024-01-03T00:00:00.000Z',
          details: { ratio: 0.82 },
        },
      );
    }));

  test('counts up to 1e12 and beyond 2^31 round-trip as JS numbers', () =>
    withStore(async (store) => {
      const big = {
        rowsRead: 1e12,
        rowsAccepted: 999_999_999_999,
        rowsRejected: 1,
        sourceRows: Number.MAX_SAFE_INTEGER,
      };
      await store.runStats.record(stat({ subject: 'huge', batchId: 'b1', ...big }));
      const latest = await store.runStats.latestPublished('huge');
      assert.deepEqual(
        {
          rowsRead: latest?.rowsRead,
          rowsAccepted: latest?.rowsAccepted,
          rowsRejected: latest?.rowsRejected,
          sourceRows: latest?.sourceRows,
        },
        big,
      );
      const [trailing] = await store.runStats.trailingPublished('huge', 1, 'none');
      assert.equal(trailing?.rowsAccepted, 999_999_999_999);

      await store.lineage.record({ ...lineageEntry('file:///out/huge', '2024-01-01T00:00:00Z'), rowsRead: 1e12 });
      assert.equal((await store.lineage.get('file:///out/huge'))?.rowsRead, 1e12);
    }));

  test('model registry: versions are numbered, registration is idempotent, promotion keeps one production version', async () => {
    await withStore(async (store) => {
      const reg = (key: string) =>
        store.models.register({
          modelName: 'flights',
          registrationKey: key,
          artifactUri: `artifact:models/flights/${key}`,
          metrics: { auc: 0.7 },
          lineage: { featureSetVersion: '1' },
          workflowId: `training/${key}`,
          runId: 'r',
        });
      assert.deepEqual(await reg('a'), { version: 1, created: true });
      assert.deepEqual(await reg('a'), { version: 1, created: false }, 'a retried registration is the same version');
      assert.deepEqual(await reg('b'), { version: 2, created: true });
      assert.equal((await store.models.get('flights', 2))?.stage, 'candidate');
      assert.deepEqual((await store.models.get('flights', 1))?.lineage, { featureSetVersion: '1' });

      const decide = (version: number, decision: 'approve' | 'promote' | 'rollback', key: string) => ({
        dedupeKey: key,
        modelName: 'flights',
        version,
        decision,
        actor: 'alice',
        reason: 'better AUC',
        workflowId: 'training/a',
      });
      assert.deepEqual(await store.models.promote(decide(1, 'promote', 'p1')), { previous: undefined });
      assert.deepEqual(await store.models.promote(decide(2, 'promote', 'p2')), { previous: 1 });
      assert.equal((await store.models.production('flights'))?.version, 2);
      assert.equal((await store.models.get('flights', 1))?.stage, 'archived');
      assert.deepEqual(await store.models.promote(decide(1, 'rollback', 'rb1')), { previous: 2 });
      assert.deepEqual(
        (await store.models.list('flights')).map((m) => [m.version, m.stage]),
        [
          [2, 'archived'],
          [1, 'production'],
        ],
      );

      assert.equal(await store.models.recordDecision(decide(2, 'approve', 'ap2')), true);
      assert.equal(
        await store.models.recordDecision(decide(2, 'approve', 'ap2')),
        false,
        'a duplicate approval is recorded once',
      );
      assert.deepEqual((await store.models.decisions('flights', 2)).map((d) => d.decision).sort(), [
        'approve',
        'promote',
      ]);
      await assert.rejects(store.models.promote(decide(9, 'promote', 'p9')), /no version 9/);
    });
  });
});
