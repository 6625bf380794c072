import fs from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { z } from 'zod';
import { queryRows, sqlIdent, sqlString, withConnection } from '../src/data/duckdb';
import { writeFileAtomic } from '../src/data/atomic-files';
import type { FeatureMatrix } from '../src/ml/feature-matrix';
import { ModelArtifactSchema, type ModelArtifact } from '../src/ml/model-artifact';
import { openOnnxScorer, scoreMatrixRange } from '../src/ml/scorer';
import { ErrorTypes } from '../src/api/errors';
import { formatZodError } from '../src/validation';
import { codeVersion } from '../src/training/code-version';
import { defaultPythonEnvsDir, ensurePythonEnv, PythonEnvError, type PythonEnv } from '../src/training/python-env';
import {
  TRAINER_CONTRACT_VERSION,
  TRAINER_OUTPUTS,
  TrainerResultSchema,
  type ProgressLine,
  type TrainerInput,
  type TrainerResult,
} from '../src/training/trainer-contract';
import { runTrainerProcess, TrainerProcessError } from '../src/training/trainer-process';
import { LABEL, ROW } from '../src/training/training-sql';
import type { TrainingSpec } from '../src/training/training-spec';
import type { ActivityDeps } from './deps';
import { withHeartbeatKeepalive } from './heartbeat';
import type { StepOutput, StepWork } from './step-files';
import { TRAINING_FILES, type SplitPart, type TrainingSplit } from './training-data';

/** The trainer's own test scores and the ONNX model's in Node may differ by float rounding, no more. */
const PARITY_TOLERANCE = 1e-5;

/** What the activity heartbeats while a trainer runs: its last progress and last checkpoint. */
const TrainerHeartbeatSchema = z.object({
  iteration: z.number().int().nonnegative(),
  metrics: z.record(z.string(), z.number()),
  checkpointIteration: z.number().int().nonnegative().optional(),
});
type TrainerHeartbeat = z.infer<typeof TrainerHeartbeatSchema>;

/** Files of model.json's folder that a trainer's native files must not overwrite. */
const RESERVED = new Set(['model.json', 'evaluation.json', 'split.json', TRAINER_OUTPUTS.model]);

/** Where the trainer's folder lives (the step's work area), what it reads, and where the model goes. */
export interface TrainerFiles {
  /** Its input, splits, checkpoints and outputs go in `trainer/` here, kept across retries. */
  work: StepWork;
  out: StepOutput;
  transformed: string;
  trainingDataHash: string;
}

/**
 * The Training step for a spec with a trainer command: the splits go out as Parquet, the command runs
 * (in its provisioned Python environment) with heartbeats from its progress lines and a checkpoint
 * folder that survives retries, and what it leaves is checked before it becomes the run's model: an
 * ONNX model that loads and scores the test split in Node as the trainer itself did, to 1e-5.
 */
export async function trainWithCommand(
  deps: ActivityDeps,
  t: TrainingSpec,
  files: TrainerFiles,
  matrix: FeatureMatrix,
  split: TrainingSplit,
  log: Logger,
): Promise<{ iterations: number; loss: number; resumedFrom?: number }> {
  const trainer = t.model.trainer!;
  const folder = path.join(files.work.dir, 'trainer');
  const dirs = {
    splits: path.join(folder, 'splits'),
    checkpoint: path.join(folder, 'checkpoint'),
    output: path.join(folder, 'output'),
  };
  await fs.rm(dirs.output, { recursive: true, force: true });
  for (const dir of Object.values(dirs)) await fs.mkdir(dir, { recursive: true });
  const previous = TrainerHeartbeatSchema.safeParse(Context.current().info.heartbeatDetails);
  const resume = (await fs.readdir(dirs.checkpoint)).length > 0;

  return withHeartbeatKeepalive(async (beat) => {
    const env = trainer.requirements
      ? await pythonEnv(deps, path.join(trainer.directory, trainer.requirements), log)
      : undefined;
    const splits = await exportSplits(deps, t, files.transformed, split, dirs.splits);
    const input: TrainerInput = {
      contract: TRAINER_CONTRACT_VERSION,
      splits,
      features: matrix.features,
      hyperParameters: trainer.hyperParameters,
      checkpointDir: dirs.checkpoint,
      resume,
      outputDir: dirs.output,
    };
    const inputFile = path.join(folder, 'input.json');
    await writeFileAtomic(inputFile, JSON.stringify(input, null, 2));
    if (resume) {
      const reported = previous.success ? previous.data.checkpointIteration : undefined;
      log.info({ iteration: reported }, `resuming the trainer from its checkpoint (last reported: ${reported ?? '-'})`);
    }

    let last: TrainerHeartbeat = previous.success ? previous.data : { iteration: 0, metrics: {} };
    // A heartbeat names a checkpoint only once the step's work area (with an object store: its copy there)
    // holds it, so a retry on any host resumes from at least that iteration. One mirror at a time.
    let mirrored = Promise.resolve();
    const onProgress = (p: ProgressLine) => {
      if (!p.checkpoint) {
        last = { ...last, iteration: p.iteration, metrics: p.metrics };
        beat(last);
        return;
      }
      mirrored = mirrored.then(async () => {
        await files.work.save();
        last = { iteration: p.iteration, metrics: p.metrics, checkpointIteration: p.iteration };
        beat(last);
        log.info({ iteration: p.iteration, metrics: p.metrics }, `checkpoint at iteration ${p.iteration}`);
      });
      // Handled where it is awaited, after the trainer exits; until then a failure must not crash the worker.
      mirrored.catch(() => {});
    };
    try {
      await runTrainerProcess({
        command: trainer.command,
        inputFile,
        cwd: trainer.directory,
        env: env
          ? { ...process.env, PATH: `${env.bin}${path.delimiter}${process.env.PATH ?? ''}`, VIRTUAL_ENV: env.dir }
          : process.env,
        pidFile: path.join(folder, 'trainer.pid'),
        progressTimeoutMs: trainer.progressTimeoutSeconds * 1000,
        signal: Context.current().cancellationSignal,
        onProgress,
      });
    } catch (error) {
      if (error instanceof TrainerProcessError) throw trainerFailure(error);
      throw error;
    }
    await mirrored;

    const result = await trainerResult(dirs.output);
    const { resumedFrom } = result;
    const parity = await checkParity(deps, matrix, split.test, dirs.output);
    for (const file of [TRAINER_OUTPUTS.model, ...result.native])
      await fs.copyFile(path.join(dirs.output, file), files.out.file(file));
    const artifact: ModelArtifact = ModelArtifactSchema.parse({
      kind: 'onnx',
      features: matrix.features,
      onnx: TRAINER_OUTPUTS.model,
      native: result.native,
      threshold: t.model.threshold,
      trainedAt: new Date().toISOString(),
      hyperParameters: trainer.hyperParameters,
      trainer: {
        command: trainer.command,
        environment: env ? { requirementsSha256: env.requirementsSha256, python: env.python } : {},
        iterations: result.iterations,
        metrics: result.metrics,
        ...(resumedFrom !== undefined ? { resumedFrom } : {}),
      },
      parity,
      trainingDataHash: files.trainingDataHash,
      featureSetVersion: t.fs.version,
      specVersion: t.spec.version,
      codeVersion: codeVersion(),
    });
    await writeFileAtomic(files.out.file(TRAINING_FILES.model), JSON.stringify(artifact, null, 2));
    await files.out.publish();
    const loss = result.metrics.train_loss ?? result.metrics.valid_loss ?? NaN;
    return {
      iterations: result.iterations,
      loss: Number.isFinite(loss) ? loss : 0,
      ...(resumedFrom !== undefined ? { resumedFrom } : {}),
    };
  });
}

async function pythonEnv(deps: ActivityDeps, requirements: string, log: Logger): Promise<PythonEnv> {
  try {
    return await ensurePythonEnv(requirements, {
      python: deps.config.MLPIPE_PYTHON,
      envsDir: deps.config.MLPIPE_PYTHON_ENVS_DIR ?? defaultPythonEnvsDir(),
      onProgress: (message) => log.info(message),
    });
  } catch (error) {
    if (error instanceof PythonEnvError)
      throw ApplicationFailure.nonRetryable(error.message, ErrorTypes.TrainerEnvironmentUnavailable);
    throw error;
  }
}

/** Train, validation and test rows as Parquet: the matrix's row number, its features (DOUBLE) and the 0/1 label. */
async function exportSplits(
  deps: ActivityDeps,
  t: TrainingSpec,
  transformed: string,
  split: TrainingSplit,
  dir: string,
): Promise<TrainerInput['splits']> {
  const columns = [
    `(row_number() OVER (ORDER BY ${ROW}) - 1)::BIGINT AS "row"`,
    ...t.features.map((f) => `CAST(${sqlIdent(f)} AS DOUBLE) AS ${sqlIdent(f)}`),
    `CAST(${LABEL} AS TINYINT) AS "label"`,
  ];
  const rows = `(SELECT ${columns.join(', ')} FROM read_parquet(${sqlString(transformed)}))`;
  const files = { train: '', validation: '', test: '' };
  await withConnection(deps.duck, async (conn) => {
    for (const name of ['train', 'validation', 'test'] as const) {
      const part: SplitPart = split[name];
      const file = path.join(dir, `${name}.parquet`);
      const partial = `${file}.tmp`;
      await conn.run(
        `COPY (SELECT * FROM ${rows} WHERE "row" >= ${part.start} AND "row" < ${part.end} ORDER BY "row") TO ${sqlString(partial)} (FORMAT parquet)`,
      );
      await fs.rename(partial, file);
      files[name] = file;
    }
  });
  return files;
}

function trainerFailure(error: TrainerProcessError): ApplicationFailure {
  switch (error.reason) {
    case 'exit':
      return ApplicationFailure.retryable(error.message, 'TrainerExited');
    case 'exit-non-retryable':
    case 'spawn':
      return ApplicationFailure.nonRetryable(error.message, ErrorTypes.TrainerFailed);
    case 'hung':
      return ApplicationFailure.nonRetryable(error.message, ErrorTypes.TrainerHung);
    case 'malformed-progress':
      return ApplicationFailure.nonRetryable(error.message, ErrorTypes.TrainerContractViolation);
  }
}

const violation = (message: string) => ApplicationFailure.nonRetryable(message, ErrorTypes.TrainerContractViolation);

async function trainerResult(outputDir: string): Promise<TrainerResult> {
  const text = await fs.readFile(path.join(outputDir, TRAINER_OUTPUTS.result), 'utf8').catch(() => undefined);
  if (text === undefined) throw violation(`the trainer exited 0 but wrote no ${TRAINER_OUTPUTS.result}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw violation(`${TRAINER_OUTPUTS.result} is not JSON: ${(error as Error).message}`);
  }
  const parsed = TrainerResultSchema.safeParse(json);
  if (!parsed.success) throw violation(`${TRAINER_OUTPUTS.result}: ${formatZodError(parsed.error)}`);
  const reserved = parsed.data.native.find((file) => RESERVED.has(file));
  if (reserved)
    throw violation(`${TRAINER_OUTPUTS.result}: native file ${reserved} would overwrite the pipeline's own`);
  for (const file of [TRAINER_OUTPUTS.model, TRAINER_OUTPUTS.testScores, ...parsed.data.native]) {
    if (!(await fs.stat(path.join(outputDir, file)).catch(() => undefined))?.isFile())
      throw violation(`the trainer exited 0 but wrote no ${file}`);
  }
  return parsed.data;
}

/**
 * The ONNX model must load, take the features and score every test row as the trainer's own model
 * did: beyond 1e-5 the exported model is not the trained one (a converter or dtype problem).
 */
async function checkParity(
  deps: ActivityDeps,
  matrix: FeatureMatrix,
  test: SplitPart,
  outputDir: string,
): Promise<{ rows: number; maxAbsDifference: number }> {
  const onnx = await openOnnxScorer(path.join(outputDir, TRAINER_OUTPUTS.model), matrix.features)
    .then(async (scorer) => {
      try {
        return await scoreMatrixRange(scorer, matrix, test);
      } finally {
        await scorer.close();
      }
    })
    .catch((error: Error) => {
      throw violation(`${TRAINER_OUTPUTS.model} does not load or score in onnxruntime-node: ${error.message}`);
    });
  const own = await withConnection(deps.duck, (conn) =>
    queryRows<{ score: number | null }>(
      conn,
      `SELECT CAST(score AS DOUBLE) AS score FROM read_parquet(${sqlString(path.join(outputDir, TRAINER_OUTPUTS.testScores))})`,
    ),
  ).catch((error: Error) => {
    throw violation(`${TRAINER_OUTPUTS.testScores} has no readable score column: ${error.message}`);
  });
  if (own.length !== test.rows)
    throw violation(`${TRAINER_OUTPUTS.testScores} has ${own.length} scores for ${test.rows} test rows`);
  let maxAbsDifference = 0;
  let worst = 0;
  for (let i = 0; i < test.rows; i++) {
    const s = own[i]!.score;
    if (s === null || !Number.isFinite(s)) throw violation(`${TRAINER_OUTPUTS.testScores}: score ${i} is ${s}`);
    const d = Math.abs(s - onnx[i]!);
    if (!(d <= maxAbsDifference)) {
      maxAbsDifference = d;
      worst = i;
    }
  }
  if (!(maxAbsDifference <= PARITY_TOLERANCE))
    throw ApplicationFailure.nonRetryable(
      `the ONNX model's scores differ from the trainer's own by ${maxAbsDifference.toExponential(2)} (test row ${worst}: trainer ${own[worst]!.score}, ONNX ${onnx[worst]}); tolerance ${PARITY_TOLERANCE}`,
      ErrorTypes.TrainingServingSkew,
    );
  return { rows: test.rows, maxAbsDifference };
}
