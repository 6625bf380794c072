import { z } from 'zod';

/**
 * A data contract: what a source must look like before any row is trusted.
 * Row-level rules (type, nullability, range, allowed set, length) send single rows to the dead letters;
 * dataset-level rules are quality gates (see GatesSchema).
 */
export const ColumnTypeSchema = z.enum(['string', 'integer', 'double', 'boolean', 'timestamp', 'date']);
export type ColumnType = z.infer<typeof ColumnTypeSchema>;

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier (letters, digits, _)');

export const ColumnSchema = z
  .object({
    name: identifier,
    type: ColumnTypeSchema,
    description: z.string().default(''),
    nullable: z.boolean().default(false),
    /** Inclusive numeric bounds (for timestamps: ISO strings). */
    min: z.union([z.number(), z.string()]).optional(),
    max: z.union([z.number(), z.string()]).optional(),
    allowed: z.array(z.string()).nonempty().optional(),
    maxLength: z.number().int().positive().optional(),
  })
  .strict();
export type Column = z.infer<typeof ColumnSchema>;

export const SeveritySchema = z.enum(['blocking', 'warning']);
export type Severity = z.infer<typeof SeveritySchema>;

/**
 * What a failed blocking check of a gate does: `stop` the run (the default), or `ask`: the run waits
 * for two listed reviewers (contract `overrides`) to override it with a reason, or for one to abort it,
 * before a deadline. For a gate that cannot tell a real event from bad data (a storm from a lost file).
 */
export const OnFailSchema = z.enum(['stop', 'ask']);
export type OnFail = z.infer<typeof OnFailSchema>;
/** Spread into each gate's options. Optional without a default: existing specs parse (and pin) as before. */
const askable = { onFail: OnFailSchema.optional() };

/** A reference table the contract's columns must point into (referential integrity). */
export const ReferenceSchema = z
  .object({
    columns: z.array(identifier).nonempty(),
    /** Artifact URI of the reference file (CSV or Parquet); `package:` URIs resolve inside node_modules. */
    uri: z.string().min(1),
    key: identifier,
    severity: SeveritySchema.default('blocking'),
    ...askable,
    /** Share of rows whose value is missing from the reference that is still tolerated. */
    maxMissingRate: z.number().min(0).max(1).default(0),
  })
  .strict();

export const GatesSchema = z
  .object({
    completeness: z
      .object({
        severity: SeveritySchema.default('blocking'),
        ...askable,
        /** Maximum null share per column over all rows read; columns not listed use `default`. */
        default: z.number().min(0).max(1).default(0.01),
        columns: z.record(z.string(), z.number().min(0).max(1)).default({}),
      })
      .strict()
      .optional(),
    volume: z
      .object({
        severity: SeveritySchema.default('blocking'),
        ...askable,
        /** Accepted band around the trailing median of earlier runs of the same source. */
        minRatio: z.number().positive().default(0.99),
        maxRatio: z.number().positive().default(1.5),
        lookback: z.number().int().positive().default(7),
        minHistory: z.number().int().nonnegative().default(1),
        /**
         * What a batch is compared with: `recentRuns`, the last `lookback` published batches, or
         * `sameWeekday`, the same weekday over the last `lookback` weeks (daily datasets only: a Monday
         * against Mondays, since weekends carry other volumes). Absent: `sameWeekday` for a daily
         * dataset, `recentRuns` otherwise. Optional without a default, so that existing specs parse as
         * before (see baselineKind).
         */
        baseline: z.enum(['recentRuns', 'sameWeekday']).optional(),
      })
      .strict()
      .optional(),
    volumeBySegment: z
      .array(
        z
          .object({
            /** The column whose values are the segments, e.g. the origin airport. */
            column: identifier,
            severity: SeveritySchema.default('blocking'),
            ...askable,
            /**
             * A segment fails below this share of its expected rows. Expected: the segment's median
             * share of the rows in the baseline batches (those of the volume gate's baseline) times
             * the batch's accepted rows, so a day that is low everywhere (a holiday) moves no segment.
             */
            minRatio: z.number().min(0).max(1),
            /** Segments expected to hold fewer rows are not judged: a small count swings by chance. */
            minExpectedRows: z.number().int().positive().default(100),
            lookback: z.number().int().positive().default(4),
          })
          .strict(),
      )
      .nonempty()
      .optional(),
    segmentVolume: z
      .object({
        severity: SeveritySchema.default('warning'),
        ...askable,
        /** Rows per day of the event time; a day below minRatio x the median day is flagged. */
        minRatio: z.number().min(0).max(1).default(0.2),
      })
      .strict()
      .optional(),
    freshness: z
      .object({
        severity: SeveritySchema.default('blocking'),
        ...askable,
        /** The newest event must be at most this old against the run's as-of time. */
        maxAgeHours: z.number().positive(),
      })
      .strict()
      .optional(),
    uniqueness: z
      .object({
        severity: SeveritySchema.default('blocking'),
        ...askable,
        maxDuplicateRate: z.number().min(0).max(1).default(0),
      })
      .strict()
      .optional(),
    rejectRate: z
      .object({
        severity: SeveritySchema.default('blocking'),
        ...askable,
        max: z.number().min(0).max(1).default(0.01),
      })
      .strict()
      .optional(),
    distribution: z
      .object({
        severity: SeveritySchema.default('warning'),
        ...askable,
        columns: z.array(identifier).nonempty(),
        /** PSI above this against the last published batch of the same contract fails the check. */
        maxPsi: z.number().positive().default(0.25),
      })
      .strict()
      .optional(),
  })
  .strict();
export type Gates = z.infer<typeof GatesSchema>;

export const ContractSchema = z
  .object({
    name: identifier,
    version: z.string().regex(/^\d+\.\d+\.\d+$/, 'must be a semantic version like 1.0.0'),
    description: z.string().default(''),
    columns: z.array(ColumnSchema).nonempty(),
    /** Columns that identify a row; duplicates are measured by the uniqueness gate. */
    key: z.array(identifier).default([]),
    eventTime: identifier,
    /**
     * What one batch is. Absent: a full snapshot of the dataset (each batch replaces the last).
     * `daily`: one day of the event time, delivered night by night; the batch id is that day
     * (YYYY-MM-DD), each day is kept as its own partition (a re-delivered day replaces only itself),
     * and a row of another day is refused to the dead letters (rule `partition`: re-deliver its day).
     */
    partitioning: z.enum(['daily']).optional(),
    references: z.array(ReferenceSchema).default([]),
    gates: GatesSchema.default({}),
    /** Who may override a gate marked `onFail: 'ask'`, and how long a run waits for them. */
    overrides: z
      .object({
        /** Two of them, not the same person twice, must agree to override (four eyes); any one may abort. */
        reviewers: z
          .array(z.string().regex(/^[A-Za-z0-9._@-]{1,100}$/))
          .min(2)
          .refine((r) => new Set(r).size === r.length, 'each reviewer once: four eyes need two different people'),
        /** After this the failure stands: the run fails as if the gate said `stop`. */
        deadlineHours: z
          .number()
          .positive()
          .max(24 * 30)
          .default(24),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const names = new Set<string>();
    for (const col of c.columns) {
      if (names.has(col.name)) ctx.addIssue({ code: 'custom', message: `duplicate column ${col.name}` });
      names.add(col.name);
    }
    const mustExist = [
      c.eventTime,
      ...c.key,
      ...c.references.flatMap((r) => r.columns),
      ...(c.gates.distribution?.columns ?? []),
      ...(c.gates.volumeBySegment ?? []).map((g) => g.column),
    ];
    for (const name of mustExist) {
      if (!names.has(name)) ctx.addIssue({ code: 'custom', message: `column ${name} is referenced but not declared` });
    }
    const event = c.columns.find((col) => col.name === c.eventTime);
    if (event && event.type !== 'timestamp' && event.type !== 'date') {
      ctx.addIssue({ code: 'custom', message: `event time column ${c.eventTime} must be a timestamp or date` });
    }
    // A row without an event time has no day to be delivered in.
    if (event?.nullable && c.partitioning === 'daily')
      ctx.addIssue({
        code: 'custom',
        message: `event time column ${c.eventTime} of a daily dataset cannot be nullable`,
        path: ['partitioning'],
      });
    const gates = [...Object.values(c.gates).flat(), ...c.references] as (
      { onFail?: string; severity: string } | undefined
    )[];
    const asks = gates.some((gate) => gate?.onFail === 'ask');
    if (gates.some((gate) => gate?.onFail === 'ask' && gate.severity !== 'blocking'))
      ctx.addIssue({
        code: 'custom',
        message: "onFail: 'ask' on a warning gate asks nothing: a warning never stops a batch (make it blocking)",
        path: ['gates'],
      });
    if (asks && !c.overrides)
      ctx.addIssue({
        code: 'custom',
        message: "a gate with onFail: 'ask' needs overrides: { reviewers: [two or more people] } to ask",
        path: ['overrides'],
      });
    if (c.gates.volume?.baseline === 'sameWeekday' && c.partitioning !== 'daily')
      ctx.addIssue({
        code: 'custom',
        message: 'a sameWeekday baseline needs a daily dataset (partitioning: daily): a snapshot has no weekday',
        path: ['gates', 'volume', 'baseline'],
      });
  });

/** The volume gates' baseline of a contract (see GatesSchema volume.baseline). */
export function baselineKind(contract: Contract): 'recentRuns' | 'sameWeekday' {
  return contract.gates.volume?.baseline ?? (contract.partitioning === 'daily' ? 'sameWeekday' : 'recentRuns');
}
export type Contract = z.infer<typeof ContractSchema>;
export type ContractInput = z.input<typeof ContractSchema>;
