import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startIngestion } from '../../src/client/ingestion';
import { startBackfill } from '../../src/client/features';
import { artifactStoreFor } from '../../src/data/open-artifact-store';
import { sqlString } from '../../src/data/duckdb';
import { openMetadataStore, type MetadataStore } from '../../src/store/database';
import { SqlOnlineStore } from '../../src/features/sql-online-store';
import { partitionRange } from '../../src/features/partition-dates';
import type { GateReport } from '../../src/quality/gate-report';
import { REPO_ROOT, testConfig, uniqueTaskQueue, useWorker } from '../helpers/temporal';
import { query } from '../helpers/sources';

/**
 * The second spec through the same workflows and activities as flights: another file format (CSV),
 * grain (a day), entity (a station) and event time type (a date). Nothing here is weather-specific
 * code: only the spec name differs.
 */
const config = testConfig();
const taskQueue = uniqueTaskQueue('weather');
const artifacts = artifactStoreFor(config);
const temporal = useWorker(config, taskQueue);
const FS = 'wet_day';
const WEATHER_CSV = path.join(REPO_ROOT, 'node_modules', 'vega-datasets', 'data', 'weather.csv');
let store: MetadataStore;

const readReport = async (uri: string) => JSON.parse(fs.readFileSync(await artifacts.open(uri), 'utf8')) as GateReport;

before(async () => {
  store = await openMetadataStore(config.databaseUrl);
});
after(async () => {
  await store?.close();
});

describe('the weather spec', () => {
  test('ingests the bundled weather.csv and publishes it with every blocking gate passed', async () => {
    // The newest day is 2015-12-31, stamped at its midnight: a day later it is a fresh delivery.
    const handle = await startIngestion(temporal.client, config, {
      spec: 'weather',
      batch: '2012-2015',
      asOf: '2016-01-01T00:00:00Z',
      taskQueue,
    });
    const r = await handle.result();
    assert.equal(r.sourceRows, 2922, 'two stations x 1461 days');
    assert.equal(r.rowsRead, r.sourceRows);
    assert.equal(r.rowsRead, r.rowsAccepted + r.rowsRejected);
    assert.equal(r.rowsRejected, 0, 'the real file is clean');
    assert.equal(r.warnings, 0, 'both stations on every day; no earlier batch to drift from');

    const report = await readReport(r.reportUri);
    assert.equal(report.passed, true);
    assert.equal(report.blockingFailures, 0);
    for (const gate of [
      'reconciliation',
      'completeness',
      'segmentVolume',
      'freshness',
      'uniqueness',
      'rejectRate',
    ] as const) {
      assert.ok(
        report.checks.some((c) => c.gate === gate && c.verdict === 'pass'),
        `${gate} ran and passed`,
      );
    }

    const files = await artifacts.parquetFiles(await artifacts.open(r.datasetUri));
    const [typed] = await query<{ n: number; type: string; stations: number }>(
      `SELECT count(*) AS n, any_value(typeof(date)) AS type, count(DISTINCT location) AS stations FROM read_parquet([${files.map(sqlString).join(', ')}])`,
    );
    assert.deepEqual(typed, { n: 2922, type: 'DATE', stations: 2 });

    // The same file delivered again: the volume gate now has a baseline and the distribution gate a reference.
    const again = await (
      await startIngestion(temporal.client, config, {
        spec: 'weather',
        batch: '2012-2015-again',
        asOf: '2016-01-01T00:00:00Z',
        taskQueue,
      })
    ).result();
    const second = await readReport(again.reportUri);
    assert.equal(second.blockingFailures + second.warnings, 0);
    const judged = second.checks.filter((c) => c.gate === 'volume' || c.gate === 'distribution');
    assert.deepEqual(
      judged.map((c) => `${c.gate}(${c.subject}) ${c.verdict}`),
      [
        'volume(dataset) pass',
        'distribution(precipitation) pass',
        'distribution(temp_max) pass',
        'distribution(weather) pass',
      ],
    );
  });

  test('backfills 30 days of features: every partition has both stations, and the online store holds both', async () => {
    const [from, to] = ['2012-01-08', '2012-02-06'];
    const days = partitionRange(from, to);
    const result = await (
      await startBackfill(temporal.client, config, { spec: 'weather', from, to, concurrency: 8, taskQueue })
    ).result();
    assert.deepEqual(result, { total: 30, alreadyDone: 0, computed: 30 });
    assert.deepEqual(await store.features.publishedPartitions(FS, '1', days), days);

    const partitions = await store.db
      .selectFrom('feature_partitions')
      .select(['partition', 'rows', 'output_uri'])
      .where('feature_set', '=', FS)
      .execute();
    assert.equal(partitions.length, 30);
    for (const p of partitions) assert.equal(p.rows, 2, `${p.partition}: one row per station`);

    // Spot check one partition against the raw file: the window is the 7 days strictly before the row's day.
    const first = partitions.find((p) => p.partition === from)!;
    const rows = await query<{ location: string; wet_share_7d: number; temp_range: number }>(
      `SELECT location, wet_share_7d, temp_range FROM read_parquet(${sqlString(`${await artifacts.open(first.output_uri!)}/*.parquet`)}) ORDER BY location`,
    );
    const expected = await query<{ location: string; wet: number; range: number }>(
      `SELECT location,
              avg(CASE WHEN precipitation > 0 THEN 1.0 ELSE 0.0 END) FILTER (WHERE date < DATE '${from}') AS wet,
              any_value(temp_max - temp_min) FILTER (WHERE date = DATE '${from}') AS range
       FROM read_csv(${sqlString(WEATHER_CSV)}) WHERE date BETWEEN DATE '2012-01-01' AND DATE '${from}'
       GROUP BY location ORDER BY location`,
    );
    assert.deepEqual(
      rows.map((r) => r.location),
      ['New York', 'Seattle'],
    );
    rows.forEach((row, i) => {
      assert.ok(Math.abs(row.wet_share_7d - expected[i]!.wet) < 1e-12, `${row.location} wet share`);
      assert.ok(Math.abs(row.temp_range - expected[i]!.range) < 1e-9, `${row.location} temperature range`);
    });

    // No alert at all: no ingestion warning, and validation suits two-row partitions (no degraded-feature warning).
    assert.deepEqual(
      (await store.alerts.listRecent({ limit: 100 })).map((a) => a.code),
      [],
    );

    const online = await new SqlOnlineStore(store.db).list(FS, '1', 'location');
    assert.deepEqual(
      online.map((r) => r.entityKey),
      ['New York', 'Seattle'],
    );
    for (const row of online) {
      assert.equal(row.validFrom, '2012-02-07T00:00:00.000Z', 'the snapshot written by the last partition');
      assert.deepEqual(Object.keys(row.values).sort(), ['precip_mean_7d', 'temp_max_mean_7d', 'wet_share_7d']);
      for (const value of Object.values(row.values)) assert.equal(typeof value, 'number');
    }
  });

  test('computes the last day of the file: a date stamped at midnight is the whole day, not a day still filling', async () => {
    const [from, to] = ['2015-12-29', '2015-12-31'];
    const result = await (
      await startBackfill(temporal.client, config, { spec: 'weather', from, to, concurrency: 3, taskQueue })
    ).result();
    assert.deepEqual(result, { total: 3, alreadyDone: 0, computed: 3 });
    const online = await new SqlOnlineStore(store.db).list(FS, '1', 'location');
    assert.deepEqual(
      online.map((r) => r.validFrom),
      ['2016-01-01T00:00:00.000Z', '2016-01-01T00:00:00.000Z'],
      'serving has the week up to the newest day',
    );
  });
});
