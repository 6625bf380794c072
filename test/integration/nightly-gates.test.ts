import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { GateOverrideView } from '../../src/api/gate-override';
import { decideGate, gateOverrideView } from '../../src/client/gate-override';
import { sqlString } from '../../src/data/duckdb';
import type { GateReport } from '../../src/quality/gate-report';
import { registerSpec } from '../../src/specs';
import { flightsNightlySpec } from '../../src/specs/flights-nightly';
import { openMetadataStore } from '../../src/store/database';
import { saveHistory } from '../helpers/histories';
import { failing, ingestionHarness } from '../helpers/ingestion-harness';
import { FLIGHTS, freshAsOf, query, writeSource } from '../helpers/sources';
import { waitFor } from '../helpers/temporal';

/**
 * The nightly flights (src/specs/flights-nightly.ts) judged like for like: a Monday against the Mondays
 * before it, and each airport against its usual share of the night. A night that lost half of one busy
 * airport's departures looks normal as a whole (3% fewer flights); its airport gate asks before it
 * stops (`onFail: 'ask'`): two reviewers may override it with a reason (a storm), one may abort it (a
 * lost file), and at the deadline the failure stands.
 */
const nightly = ingestionHarness('nightly-gates', 'flights-nightly');
// The same spec, but a reviewer has 2 seconds: what the deadline does, without waiting 12 hours.
registerSpec({
  ...flightsNightlySpec,
  name: 'flights-nightly-hasty',
  contract: {
    ...flightsNightlySpec.contract,
    name: 'flights_nightly_hasty',
    overrides: { reviewers: ['ana', 'ben', 'chen'], deadlineHours: 2 / 3600 },
  },
  featureSet: undefined,
  model: undefined,
  monitoring: undefined,
});
const hasty = ingestionHarness('nightly-gates-hasty', 'flights-nightly-hasty');
const { config, artifacts, ingest, expectStop, alertsFor } = nightly;
const MONDAYS = ['2001-01-08', '2001-01-15', '2001-01-22'];

/** One night's file in a harness's data directory: the day's flights in a fixed order, optionally thinned by `keep`. */
async function night(
  file: string,
  day: string,
  keep = 'true',
  into = config,
): Promise<{ source: string; asOf: string }> {
  const source = await writeSource(
    into,
    file,
    `SELECT * EXCLUDE (i) FROM (
       SELECT *, row_number() OVER (ORDER BY date, origin, destination, delay, distance) AS i
       FROM flights WHERE CAST(date AS DATE) = DATE ${sqlString(day)})
     WHERE ${keep}`,
  );
  return { source, asOf: await freshAsOf(into, source) };
}
const HALF_ORD = `origin <> 'ORD' OR i % 2 = 0`;

const check = (report: GateReport, gate: string, subject: string) => {
  const found = report.checks.find((c) => c.gate === gate && c.subject === subject);
  assert.ok(found, `no ${gate}(${subject}) check`);
  return found;
};
const readReport = async (uri: string) => JSON.parse(fs.readFileSync(await artifacts.open(uri), 'utf8')) as GateReport;

/** Starts a night that holds, and waits until it asks its reviewers. */
async function holding(harness: typeof nightly, day: string, source: string, asOf: string) {
  const handle = await harness.start(day, source, asOf);
  let view: GateOverrideView | undefined;
  await waitFor(
    `${day} to ask its reviewers`,
    async () => (view = await gateOverrideView(harness.temporal.client, handle.workflowId)).status === 'waiting',
    30_000,
    100,
  );
  return { handle, view: view! };
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => assert.fail('the decision should have been refused'),
    (e: unknown) => {
      assert.ok(e instanceof WorkflowUpdateFailedError, String(e));
      return String((e.cause as Error | undefined)?.message);
    },
  );

before(async () => {
  for (const day of MONDAYS) {
    const { source, asOf } = await night(`${day}.parquet`, day);
    await ingest(day, source, asOf);
    const copy = await night(`${day}.parquet`, day, 'true', hasty.config);
    await hasty.ingest(day, copy.source, copy.asOf);
  }
});

describe('nightly gates', () => {
  test("a night that lost half of ORD's departures asks, naming ORD, though the night as a whole passes; a reviewer aborts it", async () => {
    const { source, asOf } = await night('2001-01-29-half-ord.parquet', '2001-01-29', HALF_ORD);
    const { handle, view } = await holding(nightly, '2001-01-29', source, asOf);
    assert.deepEqual(
      view.failing.map((f) => f.check),
      ['volumeBySegment(origin=ORD)'],
    );
    assert.deepEqual(view.reviewers, ['ana', 'ben', 'chen']);
    const ord = (file: string) =>
      `SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(file)}) WHERE origin = 'ORD'`;
    const [kept] = await query<{ n: number }>(ord(path.join(config.dataDir, source)));
    const [all] = await query<{ n: number }>(
      ord(FLIGHTS).replace('WHERE', `WHERE CAST(date AS DATE) = DATE '2001-01-29' AND`),
    );
    assert.ok(Math.abs(2 * kept!.n - all!.n) <= 1, `${kept!.n} is half of ${all!.n}`);
    assert.equal(view.failing[0]!.observed, `rows ${kept!.n}`);
    assert.match(
      view.failing[0]!.detail,
      /^origin ORD: rows \d+ of expected [\d.]+ \(0\.4\d*; median share [\d.]+% of 3 earlier Mondays/,
    );
    const report = await readReport(view.reportUri!);
    const day = check(report, 'volume', 'dataset');
    assert.equal(day.verdict, 'pass', 'the night as a whole is within its band');
    assert.match(day.detail, /within \[0\.8, 1\.25\] x median \d+ of 3 earlier Mondays$/);
    const [asked] = await alertsFor(handle.workflowId);
    assert.equal(asked?.code, 'GateOverrideAsked');
    assert.match(
      asked!.message,
      /waits for two of ana, ben, chen to override its failed gates, or one to abort, within 12 h: volumeBySegment\(origin=ORD\)/,
    );

    const client = nightly.temporal.client;
    assert.match(
      await refusal(
        decideGate(client, handle.workflowId, { decision: 'override', reviewer: 'zoe', reason: 'looks fine' }),
      ),
      /zoe may not override gates of this dataset \(reviewers: ana, ben, chen\)/,
    );
    await decideGate(client, handle.workflowId, {
      decision: 'abort',
      reviewer: 'chen',
      reason: "ORD's file was cut short",
    });
    const stop = await expectStop(handle, '2001-01-29');
    await saveHistory('ingestion-gate-aborted', handle);
    assert.equal(stop.type, 'DataQualityGateFailed');
    assert.equal(failing(stop.report, 'volumeBySegment')[0]?.subject, 'origin=ORD');
    assert.match(
      stop.message,
      /AwaitingOverride failed: .*volumeBySegment\(origin=ORD\): origin ORD: rows \d+ of expected .*\(aborted by chen: ORD's file was cut short\)/,
    );
    const alerts = await alertsFor(handle.workflowId);
    assert.match(
      alerts.find((a) => a.code === 'DataQualityGateFailed')?.observed ?? '',
      /^volumeBySegment\(origin=ORD\): rows \d+$/,
    );
  });

  test('the whole night, delivered again, is published with every airport within its share', async () => {
    const { source, asOf } = await night('2001-01-29.parquet', '2001-01-29');
    const { result } = await ingest('2001-01-29', source, asOf);
    const report = await readReport(result.reportUri);
    assert.equal(report.blockingFailures, 0);
    const airports = check(report, 'volumeBySegment', 'origin');
    assert.equal(airports.verdict, 'pass');
    assert.match(airports.detail, /^all \d+ origin segments expected >= 400 rows hold >= 0\.6 x expected; lowest /);
  });

  test('two reviewers override a held night (not one twice): it is published, the override in its report and lineage', async () => {
    const { source, asOf } = await night('2001-02-05-half-ord.parquet', '2001-02-05', HALF_ORD);
    const { handle } = await holding(nightly, '2001-02-05', source, asOf);
    const client = nightly.temporal.client;
    const proposed = await decideGate(client, handle.workflowId, {
      decision: 'override',
      reviewer: 'ana',
      reason: 'snowstorm at ORD: half the departures cancelled (FAA ground stop)',
    });
    assert.equal(proposed.status, 'waiting');
    assert.equal(proposed.proposed?.reviewer, 'ana');
    assert.match(
      await refusal(decideGate(client, handle.workflowId, { decision: 'override', reviewer: 'ana', reason: 'again' })),
      /ana proposed this override: another reviewer must confirm it \(four eyes\)/,
    );
    await decideGate(client, handle.workflowId, {
      decision: 'override',
      reviewer: 'ben',
      reason: 'confirmed with ops',
    });
    const result = await handle.result();
    await saveHistory('ingestion-gate-overridden', handle);
    assert.equal(result.rowsAccepted > 10_000, true);
    const report = await readReport(result.reportUri);
    assert.equal(report.passed, false, 'the gates still failed: the people let it through');
    assert.deepEqual(report.override?.checks, ['volumeBySegment(origin=ORD)']);
    assert.deepEqual(
      report.override?.overriddenBy.map((o) => [o.reviewer, o.reason]),
      [
        ['ana', 'snowstorm at ORD: half the departures cancelled (FAA ground stop)'],
        ['ben', 'confirmed with ops'],
      ],
    );
    const store = await openMetadataStore(config.databaseUrl);
    try {
      const lineage = await store.lineage.get(result.datasetUri);
      const details = lineage?.details as { gateOverride?: GateReport['override'] } | undefined;
      assert.deepEqual(
        details?.gateOverride?.overriddenBy.map((o) => o.reviewer),
        ['ana', 'ben'],
      );
    } finally {
      await store.close();
    }
  });

  test('at the deadline without an override, the failure stands', async () => {
    const { source, asOf } = await night('2001-01-29-half-ord.parquet', '2001-01-29', HALF_ORD, hasty.config);
    const { handle } = await holding(hasty, '2001-01-29', source, asOf);
    const stop = await hasty.expectStop(handle, '2001-01-29');
    assert.equal(stop.type, 'DataQualityGateFailed');
    assert.match(stop.message, /volumeBySegment\(origin=ORD\).*\(no override before \d{4}-\d\d-\d\dT[\d:.]+Z\)$/);
  });
});
