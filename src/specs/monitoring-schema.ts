import { z } from 'zod';

const DRIFT_METHODS = ['ks', 'chi-square', 'z', 'wasserstein', 'jensen-shannon', 'psi'] as const;

/**
 * How a model is watched once in production: when its labels arrive, what counts as drift or
 * degradation, and when that is reason enough to retrain (decided before deployment, not after).
 */
export const MonitoringSpecSchema = z
  .object({
    /** How long after its event a prediction's label is known (a flight's arrival delay: the same day). */
    labelDelayHours: z.number().nonnegative().default(24),
    drift: z
      .object({
        /** Per-column method overrides (the default is chosen by type and size, as in the reference). */
        methods: z.record(z.string(), z.enum(DRIFT_METHODS)).default({}),
        /** Per-column threshold overrides, in the method's own unit. */
        thresholds: z.record(z.string(), z.number().positive()).default({}),
        /** Dataset drift when at least this share of the features drifted. */
        datasetShare: z.number().gt(0).max(1).default(0.5),
      })
      .strict()
      .default({ methods: {}, thresholds: {}, datasetShare: 0.5 }),
    performance: z
      .object({
        metric: z.enum(['auc', 'logLoss', 'precision', 'recall', 'accuracy', 'ece']).default('auc'),
        /** Degradation: the window's metric worse than the model's test-split metric by more than this. */
        maxDrop: z.number().nonnegative(),
        /** Fewer labelled predictions than this: performance is not judged (too noisy). */
        minLabelled: z.number().int().positive().default(500),
        /**
         * A model segment's AUC below its test-split AUC by more than this is degradation too
         * (SegmentDegraded), judged on segments with at least minLabelled labelled rows. Unset: segments
         * are reported, not judged.
         */
        segmentAucMaxDrop: z.number().nonnegative().optional(),
      })
      .strict(),
    /** What starts a retraining child workflow. */
    retrainOn: z
      .object({
        datasetDrift: z.boolean().default(true),
        degradation: z.boolean().default(true),
        predictionDrift: z.boolean().default(false),
      })
      .strict()
      .default({ datasetDrift: true, degradation: true, predictionDrift: false }),
    /** Days of the retraining window, ending on the monitored window's last day. */
    retrainDays: z.number().int().min(3).max(3660),
  })
  .strict();
export type MonitoringSpec = z.infer<typeof MonitoringSpecSchema>;
