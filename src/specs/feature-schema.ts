import { z } from 'zod';
import { OnFailSchema } from './contract-schema';

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier (letters, digits, _)');

/**
 * A feature set: named, versioned, documented features over the rows of a contract.
 * - `event` features are computed from the row itself (hour of day, log distance);
 * - `entity` features aggregate an entity's earlier rows over a trailing window of whole days
 *   (an airport's delayed share over the previous 7 days). They are point-in-time correct at day
 *   granularity: a row on day D sees only rows of days before D, exactly the values the online
 *   store held during day D (computed when day D-1's partition ran).
 * The same definitions feed the offline store (training) and the online store (serving).
 */
export const EntitySchema = z
  .object({
    name: identifier,
    description: z.string().default(''),
    /** SQL expression over a row that yields the entity key, e.g. `origin` or `origin || '-' || destination`. */
    key: z.string().min(1),
  })
  .strict();

const ServingSchema = z
  .object({
    /** Older than this, the online value is flagged stale. */
    maxStalenessHours: z.number().positive().default(48),
    /** Stale values are still served this much longer (the last good value); then the default. */
    toleranceHours: z.number().nonnegative().default(72),
    /** Served when there is no usable value: documented per feature. */
    default: z.number().nullable(),
  })
  .strict();

export const FeatureSchema = z
  .object({
    name: identifier,
    description: z.string().min(1),
    kind: z.enum(['event', 'entity']),
    /** Entity features: the entity they aggregate over. */
    entity: identifier.optional(),
    /** Entity features: trailing window in whole days before the row's day. */
    windowDays: z.number().int().positive().max(365).optional(),
    /** event: a row expression; entity: an aggregate over the entity's window rows. */
    sql: z.string().min(1),
    /**
     * Entity features: the value when the entity had no rows in its window (0 for a count). Without
     * it the value is null, and serving falls back to the feature's default.
     */
    fillMissing: z.number().optional(),
    /** Values outside are a validation failure (beyond `maxOutOfRangeShare`). */
    range: z.tuple([z.number(), z.number()]),
    /**
     * Compare the partition's distribution with the previous partition's (PSI, a warning). Off for
     * features that differ from day to day by construction, such as the day of the week.
     */
    driftCheck: z.boolean().default(true),
    /** Largest tolerated share of nulls in a partition (an entity with no rows in its window). */
    maxNullShare: z.number().min(0).max(1).default(0),
    serving: ServingSchema.optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    if (f.kind === 'entity' && (!f.entity || !f.windowDays))
      ctx.addIssue({ code: 'custom', message: `entity feature ${f.name} needs entity and windowDays` });
    if (f.kind === 'event' && (f.entity || f.windowDays))
      ctx.addIssue({ code: 'custom', message: `event feature ${f.name} takes no entity or windowDays` });
    if (f.range[0] > f.range[1])
      ctx.addIssue({ code: 'custom', message: `feature ${f.name}: range minimum above maximum` });
  });
export type Feature = z.infer<typeof FeatureSchema>;

export const FeatureSetSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower-case letters, digits and _'),
    /** Bump it whenever a definition changes: offline partitions are kept per version. */
    version: z.string().regex(/^\d+$/, 'a whole number, e.g. "1"'),
    description: z.string().default(''),
    entities: z.array(EntitySchema).nonempty(),
    features: z.array(FeatureSchema).nonempty(),
    validation: z
      .object({
        /** Share of a feature's values outside its range that still passes. */
        maxOutOfRangeShare: z.number().min(0).max(1).default(0),
        /** PSI against the previous partition above this is a (warning) distribution shift. */
        maxPsi: z.number().positive().default(0.25),
        /** A partition with fewer rows than this share of the median of recent partitions is degraded. */
        minRowsRatio: z.number().min(0).max(1).default(0.3),
        /** How many earlier days must have rows for windows to be complete (else: stale input). */
        minHistoryDays: z.number().int().nonnegative().default(7),
        /**
         * `ask`: a partition whose features fail validation (nulls, ranges) waits for two of the
         * contract's `overrides.reviewers` to publish it anyway, or one to abort it, as a data gate does.
         */
        onFail: OnFailSchema.optional(),
      })
      .strict()
      .default({ maxOutOfRangeShare: 0, maxPsi: 0.25, minRowsRatio: 0.3, minHistoryDays: 7 }),
    /**
     * The scheduled runs' SLA: a day's partition published by this UTC time of the next day ("06:00").
     * A durable timer in the scheduled run raises FeatureSlaMissed the moment it is late, while it runs.
     */
    sla: z
      .object({ publishedByUtc: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a UTC time of day, HH:MM') })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((set, ctx) => {
    const entities = new Set(set.entities.map((e) => e.name));
    const names = new Set<string>();
    for (const f of set.features) {
      if (names.has(f.name)) ctx.addIssue({ code: 'custom', message: `duplicate feature ${f.name}` });
      names.add(f.name);
      if (f.entity && !entities.has(f.entity))
        ctx.addIssue({ code: 'custom', message: `feature ${f.name} names unknown entity ${f.entity}` });
    }
  });
export type FeatureSet = z.infer<typeof FeatureSetSchema>;
