import { z } from 'zod';
import { formatZodError } from '../validation';

/**
 * The contract between the training step and a trainer command (README "Your own trainer"). The
 * command gets one argument, the path of a JSON file (`TrainerInput`); it writes its model into
 * `outputDir` and prints progress on stdout, one JSON object a line (`ProgressLine`); anything else
 * it has to say goes to stderr.
 */
export interface TrainerInput {
  contract: typeof TRAINER_CONTRACT_VERSION;
  /** The splits as Parquet: a `row` column (the matrix's row number), the features in `features` order (DOUBLE), `label` (0/1). */
  splits: { train: string; validation: string; test: string };
  features: string[];
  hyperParameters: Record<string, unknown>;
  /** Survives a retry on any worker of the run; the trainer keeps whatever it needs to resume here. */
  checkpointDir: string;
  /** True when an earlier attempt of this run's training left `checkpointDir` non-empty. */
  resume: boolean;
  /** Where the trainer writes `model.onnx`, `test_scores.parquet`, `result.json` and its native files. */
  outputDir: string;
}

export const TRAINER_CONTRACT_VERSION = 1;

/** Exit code for "retrying cannot help" (sysexits' EX_DATAERR); any other non-zero exit is retried. */
export const TRAINER_EXIT_NON_RETRYABLE = 65;

const finite = z.number();

/** One stdout line: the iteration reached, its metrics, and whether a checkpoint was written after it. */
export const ProgressLineSchema = z
  .object({
    iteration: z.number().int().nonnegative(),
    metrics: z.record(z.string(), finite).default({}),
    checkpoint: z.boolean().default(false),
  })
  .strict();
export type ProgressLine = z.infer<typeof ProgressLineSchema>;

const fileName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a file name in outputDir');

/** `result.json` in outputDir, written last: the trainer's own account of what it made. */
export const TrainerResultSchema = z
  .object({
    /** The trainer's native model files (e.g. LightGBM's model.txt), kept beside the ONNX model. */
    native: z.array(fileName).default([]),
    iterations: z.number().int().nonnegative(),
    /** The iteration of the checkpoint it resumed from, when it did. */
    resumedFrom: z.number().int().nonnegative().optional(),
    /** The trainer's own metrics on the test split (e.g. test_auc), shown in the review. */
    metrics: z.record(z.string(), finite).default({}),
  })
  .strict();
export type TrainerResult = z.infer<typeof TrainerResultSchema>;

/** The files a trainer must leave in outputDir. */
export const TRAINER_OUTPUTS = { model: 'model.onnx', testScores: 'test_scores.parquet', result: 'result.json' };

/** A stdout line as progress, or why it breaks the contract. */
export function parseProgressLine(line: string): { ok: true; progress: ProgressLine } | { ok: false; why: string } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, why: 'not JSON (stdout is for progress lines; log to stderr)' };
  }
  const parsed = ProgressLineSchema.safeParse(json);
  if (!parsed.success) return { ok: false, why: formatZodError(parsed.error) };
  return { ok: true, progress: parsed.data };
}
