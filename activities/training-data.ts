import fs from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { queryRows, sqlIdent, sqlString, withConnection } from '../src/data/duckdb';
import { writeFileAtomic } from '../src/data/atomic-files';
import { readMatrixFromDuckDB } from '../src/data/read-matrix';
import { writeMatrixFile, readMatrixFile } from '../src/ml/matrix-file';
import { rowRange } from '../src/ml/feature-matrix';
import { splitDays } from '../src/ml/time-split';
import { isPartition, partitionRange } from '../src/features/partition-dates';
import { summarizeChecks } from '../src/quality/check';
import { checkTrainingWindow, type TrainingDataCheck } from '../src/training/training-data-checks';
import { DAY, LABEL, extractionSql, matrixSql, segmentColumn, transformedSql } from '../src/training/training-sql';
import type { TrainingSpec } from '../src/training/training-spec';
import { trainingSpecOrFail } from './training-spec-input';
import { ErrorTypes } from '../src/api/errors';
import type { ActivityDeps } from './deps';
import { featurePartitionFiles } from './feature-partition-files';
import { stepFiles, StepInputsSchema, type StepFiles } from './step-files';
import { parseInput } from './parse-input';

const WindowFields = z.object({
  spec: z.string().min(1),
  from: z.string().refine(isPartition, 'a day as YYYY-MM-DD'),
  to: z.string().refine(isPartition, 'a day as YYYY-MM-DD'),
});
const inOrder = (w: { from: string; to: string }) => w.from <= w.to;
export const TrainingWindowSchema = WindowFields.refine(inOrder, 'from must not be after to');
export type TrainingWindow = z.infer<typeof TrainingWindowSchema>;

/** A training step's argument: the window, and the URIs of what earlier steps published (none in a legacy run). */
export const TrainingStepSchema = WindowFields.extend({ inputs: StepInputsSchema.optional() }).refine(
  inOrder,
  'from must not be after to',
);
export type TrainingStepInput = z.infer<typeof TrainingStepSchema>;

/** What each step publishes, by file name (also the names in a legacy run's shared work area). */
export const TRAINING_FILES = {
  window: 'window.parquet',
  transformed: 'transformed.parquet',
  matrix: 'matrix.bin',
  matrixHash: 'matrix.sha256',
  split: 'split.json',
  model: 'model.json',
  evaluation: 'evaluation.json',
  checkpoint: 'checkpoint.json',
} as const;
type TrainingInput = 'window' | 'transformed' | 'matrix' | 'split' | 'model' | 'evaluation';

export interface SplitPart {
  from: string;
  to: string;
  rows: number;
  start: number;
  end: number;
}
export interface TrainingSplit {
  train: SplitPart;
  validation: SplitPart;
  test: SplitPart;
}

export interface TrainingContext {
  t: TrainingSpec;
  window: TrainingStepInput;
  files: StepFiles;
  /** The local path of an input the step was handed. */
  open(name: TrainingInput): Promise<string>;
}

/** The spec, the window and the step's files, or a non-retryable error for a bad argument. */
export async function trainingContext(deps: ActivityDeps, raw: unknown): Promise<TrainingContext> {
  const window = parseInput(TrainingStepSchema, raw);
  const t = trainingSpecOrFail(window.spec);
  const files = await stepFiles(deps.artifacts, { kind: 'models', name: t.model.name }, window.inputs);
  return { t, window, files, open: (name) => files.input(name, TRAINING_FILES[name]) };
}

export async function readSplit(ctx: TrainingContext): Promise<TrainingSplit> {
  return JSON.parse(await fs.readFile(await ctx.open('split'), 'utf8')) as TrainingSplit;
}

/** The matrix file and its sha256 (the training-data hash), published side by side. */
export async function openMatrix(ctx: TrainingContext): Promise<{ file: string; sha256: string }> {
  const file = await ctx.open('matrix');
  return { file, sha256: await fs.readFile(path.join(path.dirname(file), TRAINING_FILES.matrixHash), 'utf8') };
}

export function createTrainingDataActivities(deps: ActivityDeps) {
  const { duck, artifacts, store } = deps;

  return {
    /** What the spec says about the model: the workflow needs its name and reviewers before anything runs. */
    async planTraining(raw: TrainingWindow) {
      const window = parseInput(TrainingWindowSchema, raw);
      const t = trainingSpecOrFail(window.spec);
      return {
        modelName: t.model.name,
        modelType: t.model.type,
        featureSet: t.fs.name,
        featureSetVersion: t.fs.version,
        specVersion: t.spec.version,
        reviewers: [...t.model.reviewers],
        days: partitionRange(window.from, window.to).length,
        ...(t.model.shadow?.minDays ? { shadowMinDays: t.model.shadow.minDays } : {}),
        // Only when set: runs planned before the field existed must replay to the same commands.
        ...(t.model.sla ? { slaHours: t.model.sla.completeWithinHours } : {}),
        ...(t.model.trainingTaskQueue
          ? {
              trainingTaskQueue: t.model.trainingTaskQueue,
              trainingWorkerAlertSeconds: t.model.trainingWorkerAlertSeconds,
            }
          : {}),
      };
    },

    /**
     * The window's offline feature partitions, joined to their labels. A day never published is a
     * hole to fill with a backfill (non-retryable); a published partition that cannot be read means
     * the feature store is unavailable, which retries with backoff.
     */
    async extractTrainingWindow(
      raw: TrainingStepInput,
    ): Promise<{ uri: string; rows: number; days: number; positives: number; unlabelled: number }> {
      const { t, window, files: stepFiles } = await trainingContext(deps, raw);
      const days = partitionRange(window.from, window.to);
      const published = new Set(await store.features.publishedPartitions(t.fs.name, t.fs.version, days));
      const missing = days.filter((d) => !published.has(d));
      if (missing.length > 0) {
        const shown =
          missing.length > 5 ? `${missing.slice(0, 5).join(', ')} and ${missing.length - 5} more` : missing.join(', ');
        throw ApplicationFailure.nonRetryable(
          `${missing.length} of ${days.length} days have no published ${t.fs.name}@${t.fs.version} partition (${shown}): run \`mlpipe features backfill --spec ${t.spec.name} --from ${missing[0]} --to ${missing.at(-1)}\``,
          ErrorTypes.TrainingDataIncomplete,
          { missing },
        );
      }
      const files: string[] = [];
      for (const d of days) files.push(...(await featurePartitionFiles(artifacts, t.fs, d)));
      const out = await stepFiles.output('extract');
      const extracted = out.file(TRAINING_FILES.window);
      const counts = await withConnection(duck, async (conn) => {
        await conn.run(`COPY (${extractionSql(t, files)}) TO ${sqlString(extracted)} (FORMAT parquet)`);
        const [c] = await queryRows<{ rows: number; days: number; positives: number; unlabelled: number }>(
          conn,
          `SELECT count(*)::INTEGER AS rows, count(DISTINCT ${DAY})::INTEGER AS days, count(*) FILTER (WHERE ${LABEL})::INTEGER AS positives, count(*) FILTER (WHERE ${LABEL} IS NULL)::INTEGER AS unlabelled FROM read_parquet(${sqlString(extracted)})`,
        );
        return c!;
      });
      await out.publish();
      return { uri: out.uri(TRAINING_FILES.window), ...counts };
    },

    /** Blocking data-quality checks on the window: rows, label balance, feature nulls, holes in days. */
    async validateTrainingData(raw: TrainingStepInput): Promise<{ checks: TrainingDataCheck[] }> {
      const ctx = await trainingContext(deps, raw);
      const { t, window } = ctx;
      const source = `read_parquet(${sqlString(await ctx.open('window'))})`;
      const profile = await withConnection(duck, async (conn) => {
        const nulls = t.features.map(
          (f) => `count(*) FILTER (WHERE ${sqlIdent(f)} IS NULL)::INTEGER AS ${sqlIdent(f)}`,
        );
        const [totals] = await queryRows<Record<string, number>>(
          conn,
          `SELECT count(*)::INTEGER AS __rows, count(${LABEL})::INTEGER AS __labelled, count(*) FILTER (WHERE ${LABEL})::INTEGER AS __positives, ${nulls.join(', ')} FROM ${source}`,
        );
        const byDay = await queryRows<{ day: string; n: number }>(
          conn,
          `SELECT strftime(${DAY}, '%Y-%m-%d') AS day, count(*)::INTEGER AS n FROM ${source} GROUP BY 1`,
        );
        return {
          rows: totals!.__rows!,
          labelled: totals!.__labelled!,
          positives: totals!.__positives!,
          nullsByFeature: Object.fromEntries(t.features.map((f) => [f, totals![f]!])),
          rowsByDay: Object.fromEntries(byDay.map((r) => [r.day, r.n])),
          days: partitionRange(window.from, window.to),
        };
      });
      const checks = checkTrainingWindow(profile, t.model.dataQuality);
      if (checks.some((c) => c.verdict === 'fail')) {
        throw ApplicationFailure.nonRetryable(
          `training window of ${t.model.name} failed its data checks: ${summarizeChecks(checks)}`,
          ErrorTypes.DataQualityGateFailed,
          { report: { checks } },
        );
      }
      return { checks };
    },

    /** The shared feature transform (serving applies the same one), the label as 0/1. */
    async transformTrainingData(raw: TrainingStepInput): Promise<{ uri: string; rows: number; unlabelled: number }> {
      const ctx = await trainingContext(deps, raw);
      const window = await ctx.open('window');
      const out = await ctx.files.output('transform');
      const transformed = out.file(TRAINING_FILES.transformed);
      const counts = await withConnection(duck, async (conn) => {
        await conn.run(`COPY (${transformedSql(ctx.t, window)}) TO ${sqlString(transformed)} (FORMAT parquet)`);
        const [c] = await queryRows<{ rows: number; total: number }>(
          conn,
          `SELECT (SELECT count(*) FROM read_parquet(${sqlString(transformed)}))::INTEGER AS rows, (SELECT count(*) FROM read_parquet(${sqlString(window)}))::INTEGER AS total`,
        );
        return c!;
      });
      await out.publish();
      return { uri: out.uri(TRAINING_FILES.transformed), rows: counts.rows, unlabelled: counts.total - counts.rows };
    },

    /** Column-major matrix in one binary file; its sha256 is the training-data hash in the model's lineage. */
    async assembleFeatureMatrix(
      raw: TrainingStepInput,
    ): Promise<{ uri: string; rows: number; features: string[]; sha256: string; bytes: number }> {
      const ctx = await trainingContext(deps, raw);
      const { t } = ctx;
      const transformed = await ctx.open('transformed');
      const matrix = await withConnection(duck, (conn) =>
        readMatrixFromDuckDB(conn, matrixSql(t, transformed), {
          features: t.features,
          label: LABEL,
          day: DAY,
          segments: t.model.segments.map((s) => segmentColumn(s.name)),
        }),
      );
      matrix.segments = t.model.segments.map((s) => s.name);
      const out = await ctx.files.output('assemble');
      const { sha256, bytes } = await writeMatrixFile(out.file(TRAINING_FILES.matrix), matrix);
      await writeFileAtomic(out.file(TRAINING_FILES.matrixHash), sha256);
      await out.publish();
      return { uri: out.uri(TRAINING_FILES.matrix), rows: matrix.rows, features: matrix.features, sha256, bytes };
    },

    /** Train days, then validation days, then test days: no row of a later split is older than one of an earlier split. */
    async splitByTime(raw: TrainingStepInput): Promise<TrainingSplit & { uri: string }> {
      const ctx = await trainingContext(deps, raw);
      const { t } = ctx;
      const matrix = await readMatrixFile(await ctx.open('matrix'));
      let parts: ReturnType<typeof splitDays>;
      try {
        parts = splitDays(matrix.days, t.model.split);
      } catch (error) {
        throw ApplicationFailure.nonRetryable(
          `cannot split ${matrix.days.length} days of ${t.model.name}: ${(error as Error).message}`,
          ErrorTypes.DataQualityGateFailed,
        );
      }
      const part = (p: { from: string; to: string }): SplitPart => {
        const { start, end } = rowRange(matrix, p.from, p.to);
        return { from: p.from, to: p.to, rows: end - start, start, end };
      };
      const split = { train: part(parts.train), validation: part(parts.validation), test: part(parts.test) };
      const empty = Object.entries(split)
        .filter(([, p]) => p.rows === 0)
        .map(([name]) => name);
      if (empty.length)
        throw ApplicationFailure.nonRetryable(
          `the ${empty.join(' and ')} split has no rows`,
          ErrorTypes.DataQualityGateFailed,
        );
      const out = await ctx.files.output('split');
      await writeFileAtomic(out.file(TRAINING_FILES.split), JSON.stringify(split));
      await out.publish();
      return { ...split, uri: out.uri(TRAINING_FILES.split) };
    },
  };
}
