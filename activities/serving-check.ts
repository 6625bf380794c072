import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { withConnection } from '../src/data/duckdb';
import { withScorer } from '../src/ml/scorer';
import type { ModelArtifact } from '../src/ml/model-artifact';
import { addDays } from '../src/features/partition-dates';
import { startServing } from '../src/serving/server';
import { skewSample } from '../src/training/skew-sample';
import { trainingSpecOrFail } from './training-spec-input';
import { ErrorTypes } from '../src/api/errors';
import { maxWindowDays } from '../src/features/feature-sql';
import { datasetFiles } from '../src/data/dataset-files';
import type { ActivityDeps } from './deps';
import { parseInput } from './parse-input';
import { readArtifact } from './training-model';
import type { SkewCheckResult } from '../src/training/skew-check-result';

/** Scores equal "within float error": the two paths do the same arithmetic, so any real skew is far larger. */
const TOLERANCE = 1e-9;
const REQUEST_ROWS = 100;

export function createServingCheckActivities(deps: ActivityDeps) {
  const { duck, store, artifacts } = deps;
  return {
    /**
     * The staging integration check: a prediction server on a loopback port, the staging model, and
     * sample rows sent through POST /predict exactly as a client would; their scores must equal the
     * batch path's scores of the same rows (training-serving skew zero within float error).
     */
    async checkServingSkew(raw: { spec: string; version: number }): Promise<SkewCheckResult> {
      const input = parseInput(z.object({ spec: z.string().min(1), version: z.number().int().positive() }), raw);
      const t = trainingSpecOrFail(input.spec);
      const staged = await store.models.inStage(t.model.name, 'staging');
      if (staged?.version !== input.version)
        throw ApplicationFailure.nonRetryable(
          `${t.model.name} v${input.version} is not the staging version (staging: ${staged ? `v${staged.version}` : 'none'})`,
          ErrorTypes.InvalidInput,
        );
      const modelDir = await artifacts.open(staged.artifactUri);
      const artifact = await readArtifact(path.join(modelDir, 'model.json'));

      const newest = await store.features.previousPublished(t.fs.name, t.fs.version, '9999-12-31');
      // The rows the replay's windows read: the days before the day after the newest partition.
      const files = newest
        ? await datasetFiles(deps, t.spec, {
            from: addDays(newest.partition, 1 - Math.max(1, maxWindowDays(t.fs))),
            to: newest.partition,
          })
        : [];
      if (!newest?.output_uri || files.length === 0)
        throw ApplicationFailure.nonRetryable(
          `no published ${t.fs.name}@${t.fs.version} partition or ${t.spec.contract.name} dataset to replay`,
          ErrorTypes.TrainingServingSkew,
        );
      const [newestFile] = await artifacts.parquetFiles(await artifacts.open(newest.output_uri));
      const sample = await withConnection(duck, (conn) =>
        skewSample(conn, t, {
          newestPartitionFile: newestFile!,
          newestPartition: newest.partition,
          datasetFiles: files,
          rows: t.model.skewCheckRows,
        }),
      );
      if (sample.length === 0)
        throw ApplicationFailure.nonRetryable(
          `partition ${newest.partition} gave no rows to replay`,
          ErrorTypes.TrainingServingSkew,
        );

      const batch = await withScorer(artifact, modelDir, (scorer) =>
        scorer.scoreColumns(
          t.features.map((_, j) => Float64Array.from(sample, (row) => row.batchInputs[j]!)),
          sample.length,
        ),
      );
      const server = await startServing(deps, { host: '127.0.0.1', port: 0 });
      const served: { score: number; features: Record<string, number> }[] = [];
      try {
        for (let i = 0; i < sample.length; i += REQUEST_ROWS) {
          const rows = sample.slice(i, i + REQUEST_ROWS).map((r) => r.request);
          const response = await fetch(`${server.url}/predict`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-mlpipe-source': 'skew-check' },
            body: JSON.stringify({
              model: t.model.name,
              version: input.version,
              requestId: `skew-check/${t.model.name}/v${input.version}/${i}`,
              rows,
            }),
          });
          const body = (await response.json()) as {
            predictions?: { score: number; features: Record<string, number> }[];
            error?: string;
            message?: string;
          };
          if (!response.ok || !body.predictions)
            throw new Error(
              `POST /predict answered HTTP ${response.status}: ${body.message ?? body.error ?? JSON.stringify(body)}`,
            );
          served.push(...body.predictions);
        }
      } finally {
        await server.close();
      }

      const differences = sample.map((row, i) => ({
        request: row.request,
        serving: served[i]!.score,
        batch: batch[i]!,
        inputs: t.features.filter(
          (name, j) =>
            Math.abs((served[i]!.features[name] ?? NaN) - row.batchInputs[j]!) > TOLERANCE ||
            Number.isNaN(served[i]!.features[name]),
        ),
      }));
      const maxAbsDifference = Math.max(...differences.map((d) => Math.abs(d.serving - d.batch)));
      const mismatches = differences
        .filter((d) => !(Math.abs(d.serving - d.batch) <= TOLERANCE) || d.inputs.length > 0)
        .sort((a, b) => Math.abs(b.serving - b.batch) - Math.abs(a.serving - a.batch))
        .slice(0, 5);
      const result: SkewCheckResult = {
        rows: sample.length,
        day: addDays(newest.partition, 1),
        maxAbsDifference,
        mismatches,
        model: modelUnderCheck(artifact),
      };
      if (mismatches.length > 0) {
        throw ApplicationFailure.nonRetryable(
          `training-serving skew on ${mismatches.length}+ of ${sample.length} rows: max |serving - batch| = ${maxAbsDifference}; inputs differing: ${[...new Set(mismatches.flatMap((m) => m.inputs))].join(', ') || 'none'}`,
          ErrorTypes.TrainingServingSkew,
          result,
        );
      }
      return result;
    },
  };
}

/** What the reviewer reads of the model itself: its kind and, for a trainer's model, what made it and its parity. */
function modelUnderCheck(artifact: ModelArtifact): SkewCheckResult['model'] {
  if (artifact.kind === 'logistic-regression') return { kind: artifact.kind };
  return {
    kind: artifact.kind,
    trainer: artifact.trainer.command.join(' '),
    environment: artifact.trainer.environment,
    trainerParity: artifact.parity,
  };
}
