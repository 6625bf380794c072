import fs from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { ErrorTypes } from '../src/api/errors';
import { scoringPartition, type ScoringResult } from '../src/api/scoring';
import { sha256Files, type ArtifactKey } from '../src/data/artifact-store';
import { writeFileAtomic } from '../src/data/atomic-files';
import { queryRows, sqlFileList, sqlIdent, sqlString, withConnection, type DuckDBConnection } from '../src/data/duckdb';
import { readMatrixFromDuckDB } from '../src/data/read-matrix';
import { isPartition, partitionRange } from '../src/features/partition-dates';
import { readMatrixFile } from '../src/ml/matrix-file';
import { scoreMatrixRange, withScorer, type Scorer } from '../src/ml/scorer';
import {
  DEAD_LETTER_REASON,
  SCORING_ROW,
  dayRowsSql,
  modelInputsSql,
  predictionKeyColumns,
} from '../src/scoring/scoring-sql';
import type { ModelVersion } from '../src/store/model-registry';
import type { TrainingSpec } from '../src/training/training-spec';
import type { ActivityDeps } from './deps';
import { callerRun } from './caller';
import { throwIfCancelled, withHeartbeatKeepalive } from './heartbeat';
import { parseInput } from './parse-input';
import { readArtifact } from './training-model';
import { trainingSpecOrFail } from './training-spec-input';
import { featurePartitionFiles } from './feature-partition-files';

const day = z.string().refine(isPartition, 'a day as YYYY-MM-DD');
const ScoringRequestSchema = z.object({
  spec: z.string().min(1),
  from: day,
  to: day,
  version: z.number().int().positive().optional(),
});
const ScoringRunSchema = ScoringRequestSchema.extend({ version: z.number().int().positive() });
type ScoringRun = z.infer<typeof ScoringRunSchema>;
const CountsSchema = z.object({ rows: z.number().int(), scored: z.number().int(), deadLetters: z.number().int() });
type Counts = z.infer<typeof CountsSchema>;

export function createScoringActivities(deps: ActivityDeps) {
  const { config, duck, store, artifacts, logger } = deps;

  function context(raw: unknown) {
    const run = parseInput(ScoringRunSchema, raw);
    const t = trainingSpecOrFail(run.spec);
    const partition = scoringPartition(run.from, run.to);
    const key = (kind: ArtifactKey['kind'], name: string): ArtifactKey => ({
      kind,
      name,
      version: String(run.version),
      partition,
    });
    const keys = {
      predictions: key('predictions', t.model.name),
      deadLetters: key('dead-letters', `predictions-${t.model.name}`),
    };
    return { run, t, keys };
  }

  async function registered(t: TrainingSpec, version: number): Promise<ModelVersion> {
    const found = await store.models.get(t.model.name, version);
    if (!found)
      throw ApplicationFailure.nonRetryable(
        `${t.model.name} has no version ${version}`,
        ErrorTypes.ModelVersionNotFound,
      );
    return found;
  }

  const featureFiles = (t: TrainingSpec, d: string) => featurePartitionFiles(artifacts, t.fs, d);

  return {
    /** The version to score with (production unless named) and the window's days, all published. */
    async planScoring(raw: unknown): Promise<{ modelName: string; version: number; days: number }> {
      const request = parseInput(ScoringRequestSchema, raw);
      const t = trainingSpecOrFail(request.spec);
      const version =
        request.version !== undefined
          ? await registered(t, request.version)
          : await store.models.production(t.model.name);
      if (!version)
        throw ApplicationFailure.nonRetryable(
          `${t.model.name} has no production version: name one with --version`,
          ErrorTypes.NoProductionModel,
        );
      const days = partitionRange(request.from, request.to);
      const published = new Set(await store.features.publishedPartitions(t.fs.name, t.fs.version, days));
      const missing = days.filter((d) => !published.has(d));
      if (missing.length)
        throw ApplicationFailure.nonRetryable(
          `${missing.length} of ${days.length} days have no published ${t.fs.name}@${t.fs.version} partition (first ${missing[0]}): run \`mlpipe features backfill --spec ${t.spec.name} --from ${missing[0]} --to ${missing.at(-1)}\``,
          ErrorTypes.FeaturePartitionMissing,
          { missing },
        );
      return { modelName: t.model.name, version: version.version, days: days.length };
    },

    /**
     * Scores the window day by day: each day's predictions and dead letters are staged, then its counts
     * are written last, so a retry after a crash skips the days already done (a day is the checkpoint).
     * A row whose score is not a probability (NaN, out of [0, 1]) is a dead letter with the reason.
     */
    async scorePartitions(raw: ScoringRun): Promise<Counts & { days: number; resumedDays: number }> {
      const { run, t, keys } = context(raw);
      const log = logger.child({ ...callerRun(), activityType: 'scorePartitions', model: t.model.name });
      const version = await registered(t, run.version);
      const modelDir = await artifacts.open(version.artifactUri);
      const artifact = await readArtifact(path.join(modelDir, 'model.json'));
      // The days done so far, as the last checkpoint left them (on whichever host wrote it). Staging
      // before work: a day's counts (work) are only ever mirrored after its files (staging).
      const areas = [
        [keys.predictions, 'staging'],
        [keys.deadLetters, 'staging'],
        [keys.predictions, 'work'],
      ] as const;
      const predictionsDir = await artifacts.restore(keys.predictions, 'staging');
      const deadLettersDir = await artifacts.restore(keys.deadLetters, 'staging');
      const work = await artifacts.restore(keys.predictions, 'work');
      const staging = { predictions: predictionsDir, deadLetters: deadLettersDir };
      for (const dir of [work, staging.predictions, staging.deadLetters]) await fs.mkdir(dir, { recursive: true });
      const days = partitionRange(run.from, run.to);
      const totals: Counts = { rows: 0, scored: 0, deadLetters: 0 };
      let resumedDays = 0;
      await withHeartbeatKeepalive((beat) =>
        withScorer(artifact, modelDir, (scorer) =>
          withConnection(duck, async (conn) => {
            for (const [i, d] of days.entries()) {
              const doneFile = path.join(work, `${d}.json`);
              const done = CountsSchema.safeParse(
                await fs.readFile(doneFile, 'utf8').then(JSON.parse, () => undefined),
              );
              const counts = done.success
                ? done.data
                : await scoreDay(conn, t, scorer, artifact.threshold, await featureFiles(t, d), {
                    predictions: path.join(staging.predictions, `${d}.parquet`),
                    deadLetters: path.join(staging.deadLetters, `${d}.parquet`),
                  });
              if (done.success) resumedDays += 1;
              else {
                await writeFileAtomic(doneFile, JSON.stringify(counts));
                for (const [key, area] of areas) await artifacts.checkpoint(key, area);
              }
              totals.rows += counts.rows;
              totals.scored += counts.scored;
              totals.deadLetters += counts.deadLetters;
              beat({ day: d, daysDone: i + 1, ...totals });
              if (!done.success) {
                log.info({ day: d, ...counts }, `scored day ${d}`);
                if (config.MLPIPE_SCORE_DAY_PAUSE_MS > 0) await sleep(config.MLPIPE_SCORE_DAY_PAUSE_MS);
              }
              throwIfCancelled();
            }
          }),
        ),
      );
      return { ...totals, days: days.length, resumedDays };
    },

    /**
     * The staged predictions hold probabilities only, and their mean is within the spec's bound of the
     * version's baseline (its training window's scores, set at promotion); beyond it the run stops or
     * warns, as the spec says. A version never promoted has no baseline: the check says it skipped.
     */
    async validatePredictions(raw: ScoringRun): Promise<{
      rows: number;
      mean: number;
      baselineMean?: number;
      shift?: number;
      verdict: 'pass' | 'warn' | 'skipped';
    }> {
      const { run, t, keys } = context(raw);
      const version = await registered(t, run.version);
      const files = await artifacts.parquetFiles(await artifacts.restore(keys.predictions, 'staging'));
      const [s] = files.length
        ? await withConnection(duck, (conn) =>
            queryRows<{ rows: number; invalid: number; mean: number | null }>(
              conn,
              `SELECT count(*)::INTEGER AS rows, count(*) FILTER (WHERE score IS NULL OR isnan(score) OR score < 0 OR score > 1)::INTEGER AS invalid, avg(score) AS mean FROM read_parquet(${sqlFileList(files)})`,
            ),
          )
        : [{ rows: 0, invalid: 0, mean: null }];
      if (s!.invalid > 0)
        throw ApplicationFailure.nonRetryable(
          `${s!.invalid} of ${s!.rows} published scores are not probabilities`,
          ErrorTypes.PredictionValidationFailed,
        );
      const mean = s!.mean ?? NaN;
      const baselineUri = version.lineage.monitoringBaseline;
      if (typeof baselineUri !== 'string' || s!.rows === 0) return { rows: s!.rows, mean, verdict: 'skipped' };
      const baseline = await readMatrixFile(path.join(await artifacts.open(baselineUri), 'baseline.bin'));
      const prediction = baseline.columns[baseline.features.indexOf('prediction')]!;
      const baselineMean = prediction.reduce((a, b) => a + b, 0) / prediction.length;
      const shift = Math.abs(mean - baselineMean);
      const { maxMeanShift, onShift } = t.model.scoring;
      if (shift <= maxMeanShift) return { rows: s!.rows, mean, baselineMean, shift, verdict: 'pass' };
      const observed = `mean score ${mean.toFixed(4)} over ${s!.rows} rows`;
      const expected = `within ${maxMeanShift} of the baseline's ${baselineMean.toFixed(4)}`;
      if (onShift === 'warn') return { rows: s!.rows, mean, baselineMean, shift, verdict: 'warn' };
      throw ApplicationFailure.nonRetryable(
        `predictions of ${t.model.name} v${version.version} shifted: ${observed}, expected ${expected}`,
        ErrorTypes.PredictionValidationFailed,
        { observed, expected },
      );
    },

    /**
     * Reconciles (rows in = scored + dead letters, counted again from the files), then publishes the
     * predictions and dead letters at once and records their lineage: model version, feature-set
     * version, the input files' hash. Idempotent: a retry re-publishes the same files.
     */
    async publishPredictions(
      raw: ScoringRun,
    ): Promise<
      Pick<ScoringResult, 'rows' | 'scored' | 'deadLetters' | 'predictionsUri' | 'deadLettersUri' | 'outputHash'>
    > {
      const { run, t, keys } = context(raw);
      const days = partitionRange(run.from, run.to);
      const inputs = (await Promise.all(days.map((d) => featureFiles(t, d)))).flat();
      for (const key of [keys.predictions, keys.deadLetters]) await artifacts.publishOnce(key);
      const predictions = await artifacts.parquetFiles(await artifacts.openKey(keys.predictions));
      const deadLetters = await artifacts.parquetFiles(await artifacts.openKey(keys.deadLetters));
      const count = async (conn: DuckDBConnection, files: string[]) =>
        files.length
          ? (
              await queryRows<{ n: number }>(
                conn,
                `SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlFileList(files)})`,
              )
            )[0]!.n
          : 0;
      const counts = await withConnection(duck, async (conn) => ({
        rows: await count(conn, inputs),
        scored: await count(conn, predictions),
        deadLetters: await count(conn, deadLetters),
      }));
      if (counts.rows !== counts.scored + counts.deadLetters)
        throw ApplicationFailure.nonRetryable(
          `rows do not reconcile: ${counts.rows} in, ${counts.scored} scored + ${counts.deadLetters} dead letters`,
          ErrorTypes.PredictionValidationFailed,
        );
      const outputHash = await sha256Files(predictions);
      const predictionsUri = artifacts.uri(keys.predictions);
      const { workflowId, runId } = callerRun();
      await store.lineage.record({
        kind: 'predictions',
        outputUri: predictionsUri,
        sourceUri: `features:${t.fs.name}@${t.fs.version}/${scoringPartition(run.from, run.to)}`,
        rowsRead: counts.rows,
        rowsAccepted: counts.scored,
        rowsRejected: counts.deadLetters,
        outputHash,
        workflowId,
        runId,
        details: {
          modelName: t.model.name,
          modelVersion: run.version,
          featureSetVersion: t.fs.version,
          inputHash: await sha256Files(inputs),
          deadLettersUri: artifacts.uri(keys.deadLetters),
        },
      });
      await artifacts.discard(keys.predictions, 'work');
      return { ...counts, predictionsUri, deadLettersUri: artifacts.uri(keys.deadLetters), outputHash };
    },
  };
}

/** One day: its rows numbered, their model inputs scored, probabilities to `files.predictions`, the rest to dead letters. */
async function scoreDay(
  conn: DuckDBConnection,
  t: TrainingSpec,
  scorer: Scorer,
  threshold: number,
  inputs: string[],
  files: { predictions: string; deadLetters: string },
): Promise<Counts> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE scoring_day AS ${dayRowsSql(t, inputs)}`);
  const matrix = await readMatrixFromDuckDB(conn, modelInputsSql(t, 'scoring_day'), {
    features: t.features,
    label: '__label',
    day: '__day',
    segments: [],
  });
  const scores = await scoreMatrixRange(scorer, matrix, { start: 0, end: matrix.rows });
  await conn.run(`CREATE OR REPLACE TEMP TABLE scoring_scores (${SCORING_ROW} BIGINT, score DOUBLE, reason VARCHAR)`);
  const appender = await conn.createAppender('scoring_scores');
  let deadLetters = 0;
  for (let i = 0; i < matrix.rows; i++) {
    const score = scores[i]!;
    const valid = score >= 0 && score <= 1; // false for NaN too
    appender.appendBigInt(BigInt(i));
    if (valid) {
      appender.appendDouble(score);
      appender.appendNull();
    } else {
      deadLetters += 1;
      appender.appendNull();
      appender.appendVarchar(`the model returned ${score} for this row, not a probability`);
    }
    appender.endRow();
  }
  appender.closeSync();
  const keys = predictionKeyColumns(t).map((c) => `d.${sqlIdent(c)}`);
  const partial = (file: string) => `${file}.tmp`;
  await conn.run(
    `COPY (SELECT ${keys.join(', ')}, s.score, s.score >= ${threshold} AS positive FROM scoring_day d JOIN scoring_scores s USING (${SCORING_ROW}) WHERE s.reason IS NULL ORDER BY ${SCORING_ROW}) TO ${sqlString(partial(files.predictions))} (FORMAT parquet)`,
  );
  await conn.run(
    `COPY (SELECT d.* EXCLUDE (${SCORING_ROW}), s.reason AS ${DEAD_LETTER_REASON} FROM scoring_day d JOIN scoring_scores s USING (${SCORING_ROW}) WHERE s.reason IS NOT NULL ORDER BY ${SCORING_ROW}) TO ${sqlString(partial(files.deadLetters))} (FORMAT parquet)`,
  );
  for (const file of [files.predictions, files.deadLetters]) await fs.rename(partial(file), file);
  return { rows: matrix.rows, scored: matrix.rows - deadLetters, deadLetters };
}
