import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { z } from 'zod';
import { writeFileAtomic } from '../src/data/atomic-files';
import { readMatrixFile } from '../src/ml/matrix-file';
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
import {
  openMatrix,
  readSplit,
  trainingContext,
  TRAINING_FILES,
  type SplitPart,
  type TrainingStepInput,
} from './training-data';
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
     * persisted to the step's work area and sent as heartbeat details before the next one starts, so a
     * retry after a crash resumes from the last iteration instead of starting over.
     */
    async trainModel(
      raw: TrainingStepInput,
    ): Promise<{ uri: string; iterations: number; loss: number; converged?: boolean; resumedFrom?: number }> {
      const ctx = await trainingContext(deps, raw);
      const { t } = ctx;
      const { file: matrixFile, sha256: trainingDataHash } = await openMatrix(ctx);
      const matrix = await readMatrixFile(matrixFile);
      const split = await readSplit(ctx);
      const work = await ctx.files.work('train');
      const out = await ctx.files.output('train');
      const { workflowId, runId } = callerRun();
      const log = logger.child({ workflowId, runId, activityType: 'trainModel', model: t.model.name });
      if (t.model.trainer) {
        const transformed = await ctx.open('transformed');
        const trained = await trainWithCommand(
          deps,
          t,
          { work, out, transformed, trainingDataHash },
          matrix,
          split,
          log,
        );
        return { uri: out.uri(TRAINING_FILES.model), ...trained };
      }
      const hyperParameters = t.model.hyperParameters!;
      const part = split.train;
      const rows = part.end - part.start;
      const columns = matrix.columns.map((c) => c.subarray(part.start, part.end));
      const standardizer = Standardizer.fit(columns, rows);
      const data = {
        columns: standardizer.transform(columns, rows),
        labels: matrix.labels.subarray(part.start, part.end),
      };
      const checkpointFile = path.join(work.dir, TRAINING_FILES.checkpoint);
      let resumeFrom = await lastCheckpoint(checkpointFile);
      if (resumeFrom)
        log.info({ iteration: resumeFrom.iteration }, `resuming training from iteration ${resumeFrom.iteration}`);

      const result = await withHeartbeatKeepalive(async (beat) => {
        const onCheckpoint = async (checkpoint: Checkpoint) => {
          await writeFileAtomic(checkpointFile, JSON.stringify(checkpoint));
          await work.save();
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
          // A checkpoint that does not fit this data (it cannot, in the step's own work area, unless a file was
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
        trainingDataHash,
        featureSetVersion: t.fs.version,
        specVersion: t.spec.version,
        codeVersion: codeVersion(),
      });
      await writeFileAtomic(out.file(TRAINING_FILES.model), JSON.stringify(artifact, null, 2));
      await out.publish();
      return {
        uri: out.uri(TRAINING_FILES.model),
        iterations: result.iterations,
        loss: result.loss,
        converged: result.converged,
        ...(resumeFrom ? { resumedFrom: resumeFrom.iteration } : {}),
      };
    },

    /** AUC, log loss, precision/recall at the spec's threshold and calibration, overall and per segment. */
    async evaluateModel(
      raw: TrainingStepInput,
    ): Promise<{ uri: string; test: Evaluation; validation: Evaluation['overall'] }> {
      const ctx = await trainingContext(deps, raw);
      const matrix = await readMatrixFile(await ctx.open('matrix'));
      const split = await readSplit(ctx);
      const modelFile = await ctx.open('model');
      const artifact = await readArtifact(modelFile);
      const evaluate = (scorer: Scorer, name: string, part: SplitPart) =>
        scoreMatrixRange(scorer, matrix, part).then((scores) =>
          evaluateRows(matrix, part, scores, artifact.threshold, { split: name, from: part.from, to: part.to }),
        );
      const { test, validation } = await withScorer(artifact, path.dirname(modelFile), async (scorer) => ({
        test: await evaluate(scorer, 'test', split.test),
        validation: (await evaluate(scorer, 'validation', split.validation)).overall,
      }));
      const out = await ctx.files.output('evaluate');
      await writeFileAtomic(out.file(TRAINING_FILES.evaluation), JSON.stringify({ test, validation }, null, 2));
      await out.publish();
      return { uri: out.uri(TRAINING_FILES.evaluation), test, validation };
    },

    /**
     * The candidate against production on the same test rows, or, for a first model, against the
     * naive base-rate model. Failing the spec's criteria stops the run with the comparison table.
     */
    async compareWithProduction(raw: TrainingStepInput): Promise<PromotionComparison> {
      const ctx = await trainingContext(deps, raw);
      const { t } = ctx;
      const matrix = await readMatrixFile(await ctx.open('matrix'));
      const split = await readSplit(ctx);
      const candidate = await readArtifact(await ctx.open('model'));
      const meta = { split: 'test', from: split.test.from, to: split.test.to };
      const evaluateScores = (scores: Float64Array) =>
        evaluateRows(matrix, split.test, scores, candidate.threshold, meta);
      // The Evaluating step already scored the candidate on these rows.
      const candidateEval = (
        JSON.parse(await fs.readFile(await ctx.open('evaluation'), 'utf8')) as { test: Evaluation }
      ).test;
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
