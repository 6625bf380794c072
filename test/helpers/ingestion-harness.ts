import assert from 'node:assert/strict';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { startIngestion } from '../../src/client/ingestion';
import { artifactStoreFor } from '../../src/data/open-artifact-store';
import { loadSpec } from '../../src/specs';
import { openMetadataStore } from '../../src/store/database';
import type { GateReport } from '../../src/quality/gate-report';
import { testConfig, uniqueTaskQueue, useWorker } from './temporal';

/**
 * One test file's ingestion setup for one spec (flights unless named): its own data directory (so volume baselines never leak between
 * files), its own task queue, an in-process worker, and helpers to run batches and inspect outcomes.
 */
export function ingestionHarness(name: string, spec = 'flights') {
  const dataset = loadSpec(spec).contract;
  const config = testConfig();
  const taskQueue = uniqueTaskQueue(name);
  const artifacts = artifactStoreFor(config);
  const temporal = useWorker(config, taskQueue);

  const start = (batch: string, source: string | undefined, asOf: string) =>
    startIngestion(temporal.client, config, { spec, batch, source, asOf, taskQueue, chunkRows: 20_000 });

  async function ingest(batch: string, source: string | undefined, asOf: string) {
    const handle = await start(batch, source, asOf);
    return { handle, result: await handle.result() };
  }

  /** Runs an ingestion that must fail; returns the failure's type, message and gate report. */
  async function ingestExpectingStop(batch: string, source: string, asOf: string) {
    return expectStop(await start(batch, source, asOf), batch);
  }

  /** Awaits a started ingestion that must fail; returns the failure's type, message and gate report. */
  async function expectStop(handle: Awaited<ReturnType<typeof start>>, batch: string) {
    const error = await handle.result().then(
      () => assert.fail(`batch ${batch} was published but should have been stopped`),
      (e: unknown) => e,
    );
    assert.ok(error instanceof WorkflowFailedError, `expected a workflow failure, got ${String(error)}`);
    const cause = error.cause;
    assert.ok(cause instanceof ApplicationFailure);
    const details = (cause.details?.[0] ?? {}) as {
      report?: GateReport;
      differences?: { change: string; column: string; detail: string }[];
    };
    // Nothing downstream ran: no dataset was published for the batch.
    const published = await artifacts.isPublished({
      kind: 'datasets',
      name: dataset.name,
      version: dataset.version,
      partition: batch,
    });
    assert.equal(published, false, 'a stopped batch must not be published');
    return { handle, type: cause.type, message: cause.message, ...details };
  }

  async function alertsFor(workflowId: string) {
    const store = await openMetadataStore(config.databaseUrl);
    try {
      return (await store.alerts.listRecent({ limit: 100 })).filter((a) => a.workflowId === workflowId);
    } finally {
      await store.close();
    }
  }

  return { config, artifacts, temporal, start, ingest, ingestExpectingStop, expectStop, alertsFor };
}

/** The blocking checks of one gate that failed. */
export function failing(report: GateReport | undefined, gate: string) {
  assert.ok(report, 'the failure carries the gate report');
  return report.checks.filter((c) => c.gate === gate && c.verdict === 'fail' && c.severity === 'blocking');
}
