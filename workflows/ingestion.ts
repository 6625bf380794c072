import {
  ActivityFailure,
  ApplicationFailure,
  patched,
  proxyActivities,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorTypes, NON_RETRYABLE_ERROR_TYPES } from '../src/api/errors';
import { IngestionInputSchema, type IngestionInput, type IngestionResult } from '../src/api/ingestion';
import type { QualityOutcome } from '../activities/quality';
import type { GateOverride } from '../src/api/gate-override';
import { askReviewers, GateAsk } from './gate-override';
import { PipelineRun } from './pipeline-run';
import { retryFor } from './retry';
import { parseWorkflowInput } from './parse-input';

const retry = retryFor(10);

// Rewriting a small JSON report: short, and safe to repeat.
const reports = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry });

/**
 * Ingest one batch of a source under its spec's contract: checkpointed chunked ingestion, quality gates,
 * atomic publication. Bad data stops the run before publication, with an alert and the gate report.
 */
export async function ingestionPipeline(rawInput: IngestionInput): Promise<IngestionResult> {
  const input = parseWorkflowInput(IngestionInputSchema, rawInput, 'ingestion input');
  const run = new PipelineRun('ingestion', `${input.spec}/${input.batchId}`);
  const gate = new GateAsk(input.batchId);
  const acts = proxyActivities<Activities>({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '30 seconds',
    retry,
  });
  const asOf = input.asOf ?? workflowInfo().startTime.toISOString();

  const ingestArgs = {
    spec: input.spec,
    sourceUri: input.sourceUri,
    batchId: input.batchId,
    chunkRows: input.chunkRows,
  };
  const staged = await run.step(
    'Ingesting',
    `reading ${input.sourceUri} in checkpointed chunks`,
    () =>
      patched('source-circuit-breaker')
        ? ingestBehindBreaker(run, input, ingestArgs)
        : ingestSourceActivity(input, retry.maximumAttempts!).executeWithOptions(
            { summary: `ingest ${input.spec} batch ${input.batchId}` },
            [ingestArgs],
          ),
    (s) =>
      `${s.stats.rowsRead} rows read, ${s.stats.rowsAccepted} accepted, ${s.stats.rowsRejected} rejected in ${s.chunksTotal} chunks (resumed at ${s.resumedFromChunk})`,
  );

  const quality = await run.step(
    'QualityGates',
    `checking ${staged.stats.rowsAccepted} accepted rows against contract ${staged.contract} ${staged.contractVersion}`,
    () =>
      acts.checkQuality.executeWithOptions({ summary: `quality gates ${staged.contract} ${input.batchId}` }, [
        { spec: input.spec, batchId: input.batchId, stats: staged.stats, asOf },
      ]),
    (q) => `${q.report.checks.length} checks, ${q.report.warnings} warnings`,
  );
  run.progress.artifacts.gateReport = quality.reportUri;
  const override = quality.ask ? await overrideGates(run, gate, input, quality, quality.ask) : undefined;

  const published = await run.step(
    'Publishing',
    'publishing dataset and dead letters by rename',
    () =>
      acts.publishBatch.executeWithOptions({ summary: `publish ${staged.contract} ${input.batchId}` }, [
        {
          spec: input.spec,
          batchId: input.batchId,
          sourceUri: staged.sourceUri,
          fingerprint: staged.fingerprint,
          stats: staged.stats,
          outputHash: staged.outputHash,
          deadLetterHash: staged.deadLetterHash,
          reportUri: quality.reportUri,
          ...(override ? { override } : {}),
        },
      ]),
    (p) => p.datasetUri,
  );
  run.progress.artifacts.dataset = published.datasetUri;
  run.progress.artifacts.deadLetters = published.deadLettersUri;

  if (quality.report.warnings > 0) {
    const failed = quality.report.checks
      .filter((c) => c.verdict === 'fail')
      .map((c) => `${c.gate}(${c.subject}): ${c.detail}`);
    await run.alert(
      'warning',
      'DataQualityWarning',
      `${input.spec}/${input.batchId}: ${failed.length} warning(s): ${failed.slice(0, 5).join('; ')}`,
      {
        details: { reportUri: quality.reportUri },
      },
    );
  }
  run.complete(`${staged.stats.rowsAccepted} rows published, ${staged.stats.rowsRejected} dead letters`);
  return {
    batchId: input.batchId,
    datasetUri: published.datasetUri,
    deadLettersUri: published.deadLettersUri,
    reportUri: quality.reportUri,
    outputHash: published.outputHash,
    rowsRead: staged.stats.rowsRead,
    rowsAccepted: staged.stats.rowsAccepted,
    rowsRejected: staged.stats.rowsRejected,
    sourceRows: staged.stats.sourceRows,
    chunksTotal: staged.chunksTotal,
    resumedFromChunk: staged.resumedFromChunk,
    warnings: quality.report.warnings,
  };
}

/**
 * The batch failed only gates marked `onFail: 'ask'`: the reviewers decide (askReviewers); an override
 * then goes into the gate report and, with the publication, into lineage.
 */
async function overrideGates(
  run: PipelineRun,
  gate: GateAsk,
  input: IngestionInput,
  quality: QualityOutcome,
  ask: NonNullable<QualityOutcome['ask']>,
): Promise<GateOverride> {
  const subject = `${input.spec}/${input.batchId}`;
  const override = await askReviewers(run, gate, {
    subject,
    ask,
    reportUri: quality.reportUri,
    checks: quality.report.checks,
    failure: (failed, why) =>
      ApplicationFailure.nonRetryable(
        `data quality gates failed for ${subject}: ${failed} (${why})`.slice(0, 4000),
        ErrorTypes.DataQualityGateFailed,
        { report: quality.report, reportUri: quality.reportUri },
      ),
  });
  await run.step(
    'RecordingOverride',
    `${override.checks.join(', ')} overridden by ${override.overriddenBy.map((o) => o.reviewer).join(' and ')}`,
    () =>
      reports.recordGateOverride.executeWithOptions({ summary: `record override ${subject}` }, [
        { spec: input.spec, batchId: input.batchId, override },
      ]),
    () => `in ${quality.reportUri}`,
  );
  return override;
}

/** The checkpointed ingestion activity: hours long, heartbeating every chunk, with `maximumAttempts` attempts. */
function ingestSourceActivity(input: IngestionInput, maximumAttempts: number) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '4 hours',
    heartbeatTimeout: input.heartbeatTimeoutMs ?? 30_000,
    retry: { ...retry, maximumAttempts },
  }).ingestSource;
}

const DEFAULT_BREAKER = { openAfterAttempts: 4, probeEveryMs: 60_000, maxOpenMs: 24 * 3_600_000 };

/**
 * A source that keeps failing trips a circuit breaker: after `openAfterAttempts` attempts (with
 * exponential backoff) the pipeline stops calling it, raises one alert, and probes it on a durable
 * timer until it answers, then ingests again, resuming from the chunks already persisted. Failures
 * retrying cannot fix (bad data, a missing file) never open the circuit: they fail the run at once.
 */
async function ingestBehindBreaker(
  run: PipelineRun,
  input: IngestionInput,
  args: Parameters<Activities['ingestSource']>[0],
) {
  const breaker = input.circuitBreaker ?? DEFAULT_BREAKER;
  const ingestSource = ingestSourceActivity(input, breaker.openAfterAttempts);
  const { probeSource } = proxyActivities<Activities>({
    startToCloseTimeout: '1 minute',
    heartbeatTimeout: '30 seconds',
    retry: { maximumAttempts: 1 },
  });
  let alerted = false;
  for (;;) {
    try {
      return await ingestSource.executeWithOptions({ summary: `ingest ${input.spec} batch ${input.batchId}` }, [args]);
    } catch (error) {
      const cause = error instanceof ActivityFailure ? error.cause : undefined;
      if (
        cause instanceof ApplicationFailure &&
        (cause.nonRetryable || NON_RETRYABLE_ERROR_TYPES.includes(cause.type ?? ''))
      )
        throw error;
      const reason = cause?.message ?? (error as Error).message;
      const openedAt = Date.now();
      run.stage(
        'CircuitOpen',
        `${input.sourceUri} failed ${breaker.openAfterAttempts} times (${reason}): probing every ${breaker.probeEveryMs / 1000} s`,
      );
      if (!alerted) {
        alerted = true;
        await run.alert(
          'warning',
          'SourceUnavailable',
          `${input.spec}/${input.batchId}: source ${input.sourceUri} keeps failing; circuit open, probing every ${breaker.probeEveryMs / 1000} s`,
          {
            observed: `${breaker.openAfterAttempts} failed attempts: ${reason}`.slice(0, 1000),
            expected: 'the source answers',
          },
        );
      }
      for (;;) {
        if (Date.now() - openedAt >= breaker.maxOpenMs) {
          throw ApplicationFailure.nonRetryable(
            `source ${input.sourceUri} unavailable for ${breaker.maxOpenMs / 1000} s: ${reason}`,
            ErrorTypes.SourceUnavailable,
          );
        }
        await sleep(breaker.probeEveryMs);
        const answers = await probeSource
          .executeWithOptions({ summary: `probe ${input.sourceUri}` }, [{ sourceUri: input.sourceUri }])
          .then(
            () => true,
            () => false,
          );
        if (answers) break;
      }
      run.stage('Ingesting', `${input.sourceUri} answers again: resuming from the persisted chunks`);
    }
  }
}
