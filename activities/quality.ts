import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { withConnection } from '../src/data/duckdb';
import { writeFileAtomic } from '../src/data/artifact-store';
import { evaluateGates } from '../src/quality/gates';
import { IngestStatsSchema, summarizeFailures, type GateReport } from '../src/quality/gate-report';
import { loadSpec } from '../src/specs';
import { ErrorTypes } from '../src/api/errors';
import { batchKeys } from './batch-keys';
import { baselineRuns } from './gate-baseline';
import type { ActivityDeps } from './deps';
import { callerRun } from './caller';
import { parseInput } from './parse-input';

export const CheckQualityInputSchema = z.object({
  spec: z.string().min(1),
  batchId: z.string().min(1),
  stats: IngestStatsSchema,
  /** ISO time the freshness gate measures against. */
  asOf: z.iso.datetime(),
});
export type CheckQualityInput = z.infer<typeof CheckQualityInputSchema>;

export interface QualityOutcome {
  report: GateReport;
  reportUri: string;
}

export function createQualityActivities({ duck, artifacts, store }: ActivityDeps) {
  return {
    /**
     * Judges a staged batch against its contract's gates and publishes the report (a failing report is
     * published too: it is the evidence). A blocking failure is a non-retryable DataQualityGateFailed
     * that carries the report.
     */
    async checkQuality(raw: CheckQualityInput): Promise<QualityOutcome> {
      const input = parseInput(CheckQualityInputSchema, raw);
      const { contract } = loadSpec(input.spec);
      const keys = batchKeys(contract, input.batchId);
      const previous = await store.runStats.latestPublished(contract.name, input.batchId);
      const referenceFiles = previous?.outputUri
        ? await artifacts.parquetFiles(artifacts.resolve(previous.outputUri))
        : undefined;
      const report = await withConnection(duck, async (conn) =>
        evaluateGates({
          conn,
          contract,
          batchId: input.batchId,
          acceptedFiles: await artifacts.parquetFiles(artifacts.stagingDir(keys.dataset)),
          stats: input.stats,
          loadBaseline: async (lookback) =>
            Promise.all(
              (await baselineRuns(store.runStats, contract, input.batchId, lookback)).map(async (run) => ({
                batchId: run.batchId,
                rowsAccepted: run.rowsAccepted,
                files: run.outputUri ? await artifacts.parquetFiles(artifacts.resolve(run.outputUri)) : [],
              })),
            ),
          referenceFiles,
          asOf: new Date(input.asOf),
        }),
      );
      const info = callerRun();
      await writeFileAtomic(
        path.join(artifacts.stagingDir(keys.report), 'gate-report.json'),
        JSON.stringify({ ...report, workflowId: info.workflowId, runId: info.runId }, null, 2),
      );
      await artifacts.publish(keys.report);
      const reportUri = `${artifacts.uri(keys.report)}/gate-report.json`;
      if (!report.passed) {
        throw ApplicationFailure.nonRetryable(
          `data quality gates failed for ${contract.name} batch ${input.batchId}: ${summarizeFailures(report)}`,
          ErrorTypes.DataQualityGateFailed,
          { report, reportUri },
        );
      }
      return { report, reportUri };
    },
  };
}
