import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { z } from 'zod';
import { writeFileAtomic } from '../src/data/atomic-files';
import { readMatrixFile } from '../src/ml/matrix-file';
import type { FeatureMatrix } from '../src/ml/feature-matrix';
import { Standardizer } from '../src/ml/standardizer';
import { train, type Checkpoint } from '../src/ml/logistic-regression';
import { ModelArtifactSchema, type ModelArtifact } from '../src/ml/model-artifact';
import { scoreMatrixRange, withScorer, type Scorer } from '../src/ml/scorer';
import { fitBaseline, predictBaseline } from '../src/ml/baseline';
import { evaluateRows, type Evaluation } from '../src/ml/evaluation';
import { comparePromotion, promotionChecks, type PromotionComparison } from '../src/ml/promotion-gate';
import { codeVersion } from '../src/training/code-version';
import { ErrorTypes } from '../src/api/errors';
import type { ActivityDeps } from './deps';
import { callerRun } from './caller';
import { withHeartbeatKeepalive, throwIfCancelled } from './heartbeat';
import { readSplit, requireMatrix, trainingContext, type SplitPart, type TrainingWindow } from './training-data';
import { trainWithCommand } from './train-with-command';

const CheckpointSchema = z.object({
  iteration: z.number().int().nonnegative(),
  weights: z.array(z.number()),
  intercept: z.number(),
  loss: z.number(),
});

export async function readArtifact(file: string): Promise<ModelArtifact> {
  return ModelArtifactSchema.parse(JSON.parse(await fs.readFile(file, 'utf8')));
}

/** The scores of rows of a matrix by the model whose model.json is `file` (its other files beside it). */
export async function scoreWithModel(
  file: string,
  matrix: FeatureMatrix,
  range: { start: number; end: number },
): Promise<Float64Array> {
  const artifact = await readArtifact(file);
  return withScorer(artifact, path.dirname(file), (scorer) => scoreMatrixRange(scorer, matrix, range));
}

export function createTrainingModelActivities(deps: ActivityDeps) {
  const { config, logger, store, artifacts } = deps;

  /** The later of the heartbeat's checkpoint and the file's: either may be the newer after a crash. */
  async function lastCheckpoint(file: string): Promise<Checkpoint | undefined> {
    const fromHeartbeat = CheckpointSchema.safeParse(Context.current().info.heartbeatDetails);
    const fromFile = CheckpointSchema.safeParse(await fs.readFile(file, 'utf8').then(JSON.parse, () => undefined));
    const candidates = [fromHeartbeat, fromFile].filter((c) => c.success).map((c) => c.data!);
    return candidates.sort((a, b) => b.iteration - a.iteration)[0];
  }

  return {
    /**
     * Answers on the training task queue before the Training step is scheduled there: that a worker
     * polls it (the run has waited for one until now) and which host it is.
     */
    async trainingWorkerReady(): Promise<{ host: string; pid: number }> {
      return { host: os.hostname(), pid: process.pid };
    },

    /**
     * Fits the standardizer and the model on the train split. Every iteration's weights are
     * persisted to the workspace and sent as heartbeat details before the next one starts, so a
     * retry after a crash resumes from the last iteration instead of starting over.
     */
    async trainModel(
      raw: TrainingWindow,
    ): Promise<{ iterations: number; loss: number; converged?: boolean; resumedFrom?: number }> {
      const { t, ws, save } = await trainingContext(deps, raw);
      await requireMatrix(ws);
      const matrix = await readMatrixFile(ws.matrix);
      const split = await readSplit(ws);
      const { workflowId, runId } = callerRun();
      const log = logger.child({ workflowId, runId, activityType: 'trainModel', model: t.model.name });
      if (t.model.trainer) return trainWithCommand(deps, t, ws, save, matrix, split, log);
      const hyperParameters = t.model.hyperParameters!;
      const part = split.train;
      const rows = part.end - part.start;
      const columns = matrix.columns.map((c) => c.subarray(part.start, part.end));
      const standardizer = Standardizer.fit(columns, rows);
      const data = {
        columns: standardizer.transform(columns, rows),
        labels: matrix.labels.subarray(part.start, part.end),
      };
      let resumeFrom = await lastCheckpoint(ws.checkpoint);
      if (resumeFrom)
        log.info({ iteration: resumeFrom.iteration }, `resuming training from iteration ${resumeFrom.iteration}`);

      const result = await withHeartbeatKeepalive(async (beat) => {
        const onCheckpoint = async (checkpoint: Checkpoint) => {
          await writeFileAtomic(ws.checkpoint, JSON.stringify(checkpoint));
          await save();
          beat(checkpoint);
          log.info(
            { iteration: checkpoint.iteration, loss: checkpoint.loss },
            `checkpoint at iteration ${checkpoint.iteration}`,
          );
          if (config.MLPIPE_TRAIN_ITERATION_PAUSE_MS > 0) await sleep(config.MLPIPE_TRAIN_ITERATION_PAUSE_MS);
          throwIfCancelled();
        };
        try {
          return await train(data, hyperParameters, { resumeFrom, onCheckpoint });
        } catch (error) {
          // A checkpoint that does not fit this data (it cannot, in a per-run workspace, unless a file was
          // tampered with) is dropped: training from scratch is slower, never wrong.
          if (!resumeFrom || !/checkpoint/.test((error as Error).message)) throw error;
          log.warn({ err: error }, 'checkpoint rejected; training from scratch');
          resumeFrom = undefined;
          return train(data, hyperParameters, { onCheckpoint });
        }
      });

      const artifact: ModelArtifact = ModelArtifactSchema.parse({
        kind: 'logistic-regression',
        features: matrix.features,
        standardizer: standardizer.toJSON(),
        weights: result.weights,
        intercept: result.intercept,
        threshold: t.model.threshold,
        trainedAt: new Date().toISOString(),
        hyperParameters,
        trainingDataHash: await fs.readFile(ws.matrixHash, 'utf8'),
        featureSetVersion: t.fs.version,
        specVersion: t.spec.version,
        codeVersion: codeVersion(),
      });
      await writeFileAtomic(ws.model, JSON.stringify(artifact, null, 2));
      await save();
      return {
        iterations: result.iterations,
        loss: result.loss,
        converged: result.converged,
        ...(resumeFrom ? { resumedFrom: resumeFrom.iteration } : {}),
      };
    },

    /** AUC, log loss, precision/recall at the spec's threshold and calibration, overall and per segment. */
    async evaluateModel(raw: TrainingWindow): Promise<{ test: Evaluation; validation: Evaluation['overall'] }> {
      const { ws, save } = await trainingContext(deps, raw);
      const matrix = await readMatrixFile(ws.matrix);
      const split = await readSplit(ws);
      const artifact = await readArtifact(ws.model);
      const evaluate = (scorer: Scorer, name: string, part: SplitPart) =>
        scoreMatrixRange(scorer, matrix, part).then((scores) =>
          evaluateRows(matrix, part, scores, artifact.threshold, { split: name, from: part.from, to: part.to }),
        );
      const { test, validation } = await withScorer(artifact, ws.dir, async (scorer) => ({
        test: await evaluate(scorer, 'test', split.test),
        validation: (await evaluate(scorer, 'validation', split.validation)).overall,
      }));
      const withMetrics = ModelArtifactSchema.parse({ ...artifact, metrics: test.overall });
      await writeFileAtomic(ws.model, JSON.stringify(withMetrics, null, 2));
      await writeFileAtomic(ws.evaluation, JSON.stringify({ test, validation }, null, 2));
      await save();
      return { test, validation };
    },

    /**
     * The candidate against production on the same test rows, or, for a first model, against the
     * naive base-rate model. Failing the spec's criteria stops the run with the comparison table.
     */
    async compareWithProduction(raw: TrainingWindow): Promise<PromotionComparison> {
      const { t, ws } = await trainingContext(deps, raw);
      const matrix = await readMatrixFile(ws.matrix);
      const split = await readSplit(ws);
      const candidate = await readArtifact(ws.model);
      const meta = { split: 'test', from: split.test.from, to: split.test.to };
      const evaluateScores = (scores: Float64Array) =>
        evaluateRows(matrix, split.test, scores, candidate.threshold, meta);
      // The Evaluating step already scored the candidate on these rows.
      const candidateEval = (JSON.parse(await fs.readFile(ws.evaluation, 'utf8')) as { test: Evaluation }).test;
      const production = await store.models.production(t.model.name);
      let comparison: PromotionComparison;
      if (production) {
        const incumbentDir = await artifacts.open(production.artifactUri);
        const incumbent = await readArtifact(path.join(incumbentDir, 'model.json'));
        const missing = incumbent.features.filter((f) => !matrix.features.includes(f));
        if (missing.length) {
          throw ApplicationFailure.nonRetryable(
            `production v${production.version} uses features this run does not have (${missing.join(', ')}): they cannot be compared on the same rows`,
            ErrorTypes.ModelQualityGateFailed,
          );
        }
        comparison = comparePromotion(
          candidateEval,
          {
            kind: 'production',
            version: production.version,
            evaluation: evaluateScores(
              await withScorer(incumbent, incumbentDir, (scorer) => scoreMatrixRange(scorer, matrix, split.test)),
            ),
          },
          t.model.promotion,
        );
      } else {
        const baseline = fitBaseline(matrix.labels.subarray(split.train.start, split.train.end));
        comparison = comparePromotion(
          candidateEval,
          { kind: 'baseline', evaluation: evaluateScores(predictBaseline(baseline, split.test.rows)) },
          t.model.promotion,
        );
      }
      if (!comparison.passed) {
        throw ApplicationFailure.nonRetryable(
          `candidate does not beat ${comparison.against}: ${comparison.summary}`,
          ErrorTypes.ModelQualityGateFailed,
          { comparison, report: { checks: promotionChecks(comparison) } },
        );
      }
      return comparison;
    },
  };
}
