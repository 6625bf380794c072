import fs from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { queryRows, sqlIdent, sqlString, withConnection } from '../src/data/duckdb';
import { exists, writeFileAtomic } from '../src/data/atomic-files';
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
import { trainingWorkspace, type TrainingWorkspace } from '../src/training/workspace';
import { ErrorTypes } from '../src/api/errors';
import type { ActivityDeps } from './deps';
import { featurePartitionFiles } from './feature-partition-files';
import { callerRun } from './caller';
import { parseInput } from './parse-input';

export const TrainingWindowSchema = z
  .object({
    spec: z.string().min(1),
    from: z.string().refine(isPartition, 'a day as YYYY-MM-DD'),
    to: z.string().refine(isPartition, 'a day as YYYY-MM-DD'),
  })
  .refine((w) => w.from <= w.to, 'from must not be after to');
export type TrainingWindow = z.infer<typeof TrainingWindowSchema>;

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

/**
 * The spec, the window and this run's workspace as the previous step left it (brought from the object
 * store when this host does not have it), or a non-retryable error for a bad argument. A step that
 * writes to the workspace calls `save` before it returns, so the next step may run on any host.
 */
export async function trainingContext(
  deps: ActivityDeps,
  raw: unknown,
): Promise<{ t: TrainingSpec; window: TrainingWindow; ws: TrainingWorkspace; save(): Promise<void> }> {
  const window = parseInput(TrainingWindowSchema, raw);
  const t = trainingSpecOrFail(window.spec);
  const { workflowId, runId } = callerRun();
  const ws = trainingWorkspace(deps.artifacts, t.model.name, workflowId, runId);
  await deps.artifacts.restore(ws.key, 'work');
  return { t, window, ws, save: () => deps.artifacts.checkpoint(ws.key, 'work') };
}

export async function readSplit(ws: TrainingWorkspace): Promise<TrainingSplit> {
  return JSON.parse(await fs.readFile(ws.split, 'utf8')) as TrainingSplit;
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
      raw: TrainingWindow,
    ): Promise<{ uri: string; rows: number; days: number; positives: number; unlabelled: number }> {
      const { t, window, ws, save } = await trainingContext(deps, raw);
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
      await fs.mkdir(ws.dir, { recursive: true });
      const counts = await withConnection(duck, async (conn) => {
        await conn.run(`COPY (${extractionSql(t, files)}) TO ${sqlString(ws.window)} (FORMAT parquet)`);
        const [c] = await queryRows<{ rows: number; days: number; positives: number; unlabelled: number }>(
          conn,
          `SELECT count(*)::INTEGER AS rows, count(DISTINCT ${DAY})::INTEGER AS days, count(*) FILTER (WHERE ${LABEL})::INTEGER AS positives, count(*) FILTER (WHERE ${LABEL} IS NULL)::INTEGER AS unlabelled FROM read_parquet(${sqlString(ws.window)})`,
        );
        return c!;
      });
      await save();
      return { uri: ws.window, ...counts };
    },

    /** Blocking data-quality checks on the window: rows, label balance, feature nulls, holes in days. */
    async validateTrainingData(raw: TrainingWindow): Promise<{ checks: TrainingDataCheck[] }> {
      const { t, window, ws } = await trainingContext(deps, raw);
      const source = `read_parquet(${sqlString(ws.window)})`;
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
    async transformTrainingData(raw: TrainingWindow): Promise<{ rows: number; unlabelled: number }> {
      const { t, ws, save } = await trainingContext(deps, raw);
      const counts = await withConnection(duck, async (conn) => {
        await conn.run(`COPY (${transformedSql(t, ws.window)}) TO ${sqlString(ws.transformed)} (FORMAT parquet)`);
        const [c] = await queryRows<{ rows: number; total: number }>(
          conn,
          `SELECT (SELECT count(*) FROM read_parquet(${sqlString(ws.transformed)}))::INTEGER AS rows, (SELECT count(*) FROM read_parquet(${sqlString(ws.window)}))::INTEGER AS total`,
        );
        return c!;
      });
      await save();
      return { rows: counts.rows, unlabelled: counts.total - counts.rows };
    },

    /** Column-major matrix in one binary file; its sha256 is the training-data hash in the model's lineage. */
    async assembleFeatureMatrix(
      raw: TrainingWindow,
    ): Promise<{ rows: number; features: string[]; sha256: string; bytes: number }> {
      const { t, ws, save } = await trainingContext(deps, raw);
      const matrix = await withConnection(duck, (conn) =>
        readMatrixFromDuckDB(conn, matrixSql(t, ws.transformed), {
          features: t.features,
          label: LABEL,
          day: DAY,
          segments: t.model.segments.map((s) => segmentColumn(s.name)),
        }),
      );
      matrix.segments = t.model.segments.map((s) => s.name);
      const { sha256, bytes } = await writeMatrixFile(ws.matrix, matrix);
      await writeFileAtomic(ws.matrixHash, sha256);
      await save();
      return { rows: matrix.rows, features: matrix.features, sha256, bytes };
    },

    /** Train days, then validation days, then test days: no row of a later split is older than one of an earlier split. */
    async splitByTime(raw: TrainingWindow): Promise<TrainingSplit> {
      const { t, ws, save } = await trainingContext(deps, raw);
      const matrix = await readMatrixFile(ws.matrix);
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
      await writeFileAtomic(ws.split, JSON.stringify(split));
      await save();
      return split;
    },
  };
}

/** True when the run's matrix exists: later steps of a run whose workspace vanished fail clearly. */
export async function requireMatrix(ws: TrainingWorkspace): Promise<void> {
  if (!(await exists(ws.matrix)))
    throw ApplicationFailure.nonRetryable(
      `the run's feature matrix ${ws.matrix} is gone: start a new training run`,
      ErrorTypes.InvalidInput,
    );
}
