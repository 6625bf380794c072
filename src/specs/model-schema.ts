import path from 'node:path';
import { z } from 'zod';
import { isPartition } from '../features/partition-dates';

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier (letters, digits, _)');
const day = z.string().refine(isPartition, 'a day as YYYY-MM-DD');

/** The metrics gates can name; all are "higher is better" except logLoss and ece. */
export const GATE_METRICS = ['auc', 'logLoss', 'precision', 'recall', 'accuracy', 'ece'] as const;
export type GateMetric = (typeof GATE_METRICS)[number];

/**
 * A named slice of the evaluation rows: a boolean SQL expression over the offline feature rows
 * (contract columns and features), e.g. hub airports against the rest.
 */
export const SegmentSchema = z
  .object({
    name: identifier,
    description: z.string().min(1),
    sql: z.string().min(1),
  })
  .strict();
export type Segment = z.infer<typeof SegmentSchema>;

const FractionsSchema = z
  .object({ train: z.number().positive(), validation: z.number().positive(), test: z.number().positive() })
  .strict()
  .refine((f) => Math.abs(f.train + f.validation + f.test - 1) < 1e-9, 'split fractions must add up to 1');

/**
 * A trainer of the team's own (README "Your own trainer"): a command run in `directory` with the
 * path of its input file as last argument. With `requirements`, the project provisions a Python
 * environment from PyPI for it (cached by the file's hash) and `python` in the command is that one.
 */
export const TrainerSpecSchema = z
  .object({
    /** Absolute: build it from the spec module's folder, e.g. path.join(__dirname, 'trainers'). */
    directory: z.string().refine(path.isAbsolute, 'an absolute path (build it from the spec module: __dirname)'),
    command: z.array(z.string().min(1)).nonempty(),
    /** A pip requirements file in `directory`, pinned: the environment is part of the model's lineage. */
    requirements: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'a file in the trainer directory')
      .optional(),
    /** Passed to the trainer as they are; recorded in the model's lineage. */
    hyperParameters: z.record(z.string(), z.json()).default({}),
    /** The trainer must print a progress line at least this often, or it is stopped as hung. */
    progressTimeoutSeconds: z.number().int().positive().default(120),
  })
  .strict();
export type TrainerSpec = z.infer<typeof TrainerSpecSchema>;

/**
 * The model a spec trains: what it predicts (the label), on which features, how it is judged,
 * and who may approve it. Everything the training pipeline decides comes from here, so a second
 * spec trains with no change to workflow or activity code.
 */
export const ModelSpecSchema = z
  .object({
    /** The registry's name for the model, e.g. flight-delay. */
    name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    description: z.string().min(1),
    /** Boolean SQL over the offline feature rows; true is the positive class. */
    label: z.object({ name: identifier, sql: z.string().min(1), description: z.string().min(1) }).strict(),
    /** Features of the feature set the model uses, in this order; all of them when omitted. */
    features: z.array(identifier).nonempty().optional(),
    /**
     * Contract columns a prediction request carries (the event time, the entity keys' columns and
     * what event features read); the label's columns are never among them.
     */
    servingInput: z.array(identifier).nonempty(),
    type: z.literal('logistic-regression').default('logistic-regression'),
    /** The built-in model's; a spec with a trainer gives the trainer's own instead. */
    hyperParameters: z
      .object({
        l2: z.number().positive(),
        maxIterations: z.number().int().positive().max(1000),
        tolerance: z.number().nonnegative(),
      })
      .strict()
      .optional(),
    /** Train with the team's own code instead of the built-in logistic regression; scored as ONNX. */
    trainer: TrainerSpecSchema.optional(),
    /** Probability at or above which a row is called positive: precision and recall are measured here. */
    threshold: z.number().gt(0).lt(1),
    /** The window `mlpipe train` uses without --from/--to (days of published feature partitions). */
    defaultWindow: z.object({ from: day, to: day }).strict(),
    /** Shares of the window's days, in time order: train days, then validation days, then test days. */
    split: FractionsSchema.default({ train: 0.7, validation: 0.15, test: 0.15 }),
    segments: z.array(SegmentSchema).default([]),
    /** Blocking checks on the extracted window before anything is trained. */
    dataQuality: z
      .object({
        minRows: z.number().int().positive(),
        /** Bounds on the share of positive labels: outside them the labels are broken, not the world. */
        positiveShare: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]),
        /** Largest share of nulls per feature (nulls are imputed with the feature's serving default). */
        maxNullShare: z.number().min(0).max(1).default(0.05),
        /** A day with fewer rows than this share of the window's median day is a hole in the data. */
        minDayRowsRatio: z.number().min(0).max(1).default(0.2),
      })
      .strict(),
    /** What a candidate must show, on the same test rows, before it can reach production. */
    promotion: z
      .object({
        metric: z.enum(GATE_METRICS).default('auc'),
        /** Against production: the candidate's metric must be better by at least this much. */
        minImprovement: z.number().nonnegative(),
        /** Against production: no segment's metric may be worse by more than this. */
        maxSegmentDegradation: z.number().nonnegative(),
        /** A first model: better than the naive base-rate model by at least this much. */
        minLiftOverBaseline: z.number().nonnegative(),
      })
      .strict(),
    /** The hard bias / segment-parity gate: every segment's metric must stay within its bound. */
    bias: z
      .array(
        z.object({ metric: z.enum(GATE_METRICS), min: z.number().optional(), max: z.number().optional() }).strict(),
      )
      .default([]),
    /** Who may approve or reject a candidate; never the person who started the run (four eyes). */
    reviewers: z.array(z.string().regex(/^[A-Za-z0-9._@-]{1,100}$/)).nonempty(),
    /**
     * The task queue of the Training step (e.g. ml-training-gpu): only workers started on it, `mlpipe
     * worker --task-queue ml-training-gpu`, train this model; every other step stays on the pipeline's
     * queue. Such a worker must share the pipeline workers' data directory (steps find each other's
     * files there).
     */
    trainingTaskQueue: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/, 'a task queue name: letters, digits, ".", "_" and "-"')
      .optional(),
    /** With a training task queue: seconds without a worker on it before the run alerts (it keeps waiting). */
    trainingWorkerAlertSeconds: z.number().int().positive().default(900),
    /**
     * The training run's SLA: done (promoted, rejected or failed) within this many hours of its start.
     * A durable timer raises a SlaMissed alert the moment it is late, while the run still runs (waiting
     * for a reviewer, say), not after it ends.
     */
    sla: z
      .object({
        completeWithinHours: z
          .number()
          .positive()
          .max(24 * 30),
      })
      .strict()
      .optional(),
    /**
     * Shadow deployment: the staged candidate scores every production request beside production (the
     * client is answered by production), both logged; monitoring compares them. A candidate cannot be
     * approved before it has been in shadow `minDays` days.
     */
    shadow: z
      .object({ minDays: z.number().int().nonnegative().max(90) })
      .strict()
      .optional(),
    /** Batch scoring (`mlpipe score`): how far the mean score may move from the version's baseline, and what then. */
    scoring: z
      .object({ maxMeanShift: z.number().positive().max(1), onShift: z.enum(['block', 'warn']) })
      .strict()
      .default({ maxMeanShift: 0.1, onShift: 'block' }),
    /** Rows of the test split replayed through the serving path in the staging skew check. */
    skewCheckRows: z.number().int().positive().max(1000).default(50),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (!m.trainer && !m.hyperParameters)
      ctx.addIssue({ code: 'custom', message: 'hyperParameters: the built-in model needs them (or name a trainer)' });
    if (m.trainer && m.hyperParameters)
      ctx.addIssue({ code: 'custom', message: 'hyperParameters: a trainer takes its own (trainer.hyperParameters)' });
    if (m.defaultWindow.from > m.defaultWindow.to)
      ctx.addIssue({ code: 'custom', message: 'defaultWindow.from is after defaultWindow.to' });
    if (m.dataQuality.positiveShare[0] > m.dataQuality.positiveShare[1])
      ctx.addIssue({ code: 'custom', message: 'dataQuality.positiveShare: minimum above maximum' });
    const names = new Set<string>();
    for (const s of m.segments) {
      if (names.has(s.name)) ctx.addIssue({ code: 'custom', message: `duplicate segment ${s.name}` });
      names.add(s.name);
    }
    m.bias.forEach((b, i) => {
      if (b.min === undefined && b.max === undefined)
        ctx.addIssue({ code: 'custom', message: `bias[${i}] needs min or max`, path: ['bias', i] });
    });
  });
export type ModelSpec = z.infer<typeof ModelSpecSchema>;
