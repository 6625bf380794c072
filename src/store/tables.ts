import type { Generated } from 'kysely';
import { z } from 'zod';

/*
 * Storage representation shared by SQLite and PostgreSQL: timestamps are ISO-8601 UTC text
 * (so text order is time order on both), JSON is text, counts are 64-bit integers read back as
 * JS numbers. The zod codecs below turn the values repositories accept into that representation.
 */

export const RUN_STATUSES = ['published', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const ALERT_SEVERITIES = ['critical', 'warning', 'info'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** A row count; capped at 2^53 - 1 so it round-trips exactly as a JS number. */
export const CountSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** A Date or an ISO-8601 string with offset, normalised to `toISOString()` form. */
export const TimestampSchema = z
  .union([z.date(), z.iso.datetime({ offset: true })])
  .transform((value) => new Date(value).toISOString());

/** `created_at` of a new row: the given instant, else now. */
export const CreatedAtSchema = TimestampSchema.default(() => new Date().toISOString());

/** Free-form structured details, stored as JSON text. */
export const DetailsSchema = z.record(z.string(), z.unknown()).default({});
export type Details = z.output<typeof DetailsSchema>;

export interface RunStatsTable {
  subject: string;
  batch_id: string;
  pipeline_kind: string;
  workflow_id: string;
  run_id: string;
  rows_read: number;
  rows_accepted: number;
  rows_rejected: number;
  source_rows: number | null;
  output_uri: string | null;
  output_hash: string | null;
  status: RunStatus;
  created_at: string;
}

export interface LineageTable {
  output_uri: string;
  kind: string;
  source_uri: string;
  source_fingerprint: string | null;
  contract_name: string | null;
  contract_version: string | null;
  rows_read: number;
  rows_accepted: number;
  rows_rejected: number;
  output_hash: string;
  workflow_id: string;
  run_id: string;
  created_at: string;
  details: string;
}

export interface AlertsTable {
  id: Generated<number>;
  dedupe_key: string;
  severity: AlertSeverity;
  code: string;
  subject: string;
  message: string;
  observed: string | null;
  expected: string | null;
  workflow_id: string | null;
  run_id: string | null;
  ui_url: string | null;
  created_at: string;
  details: string;
}

export interface OnlineFeaturesTable {
  feature_set: string;
  version: string;
  entity_type: string;
  entity_key: string;
  /** Feature name -> number or null, as JSON. */
  values_json: string;
  valid_from: string;
  updated_at: string;
}

export interface FeaturePartitionsTable {
  feature_set: string;
  version: string;
  partition: string;
  status: 'published' | 'failed';
  rows: number;
  input_uri: string;
  output_uri: string | null;
  output_hash: string | null;
  /** Per-feature statistics (nulls, min, max, mean) and the checks, as JSON. */
  stats_json: string;
  duration_ms: number;
  workflow_id: string;
  run_id: string;
  created_at: string;
}

export interface FeatureSetVersionsTable {
  feature_set: string;
  version: string;
  definition_hash: string;
  created_at: string;
}

export interface SpecVersionsTable {
  spec: string;
  version: string;
  definition_hash: string;
  /** The spec's file when it was first used (for the error message). */
  defined_in: string | null;
  created_at: string;
}

/** A file a sensor handed to a daily chain; keyed by its day and its content's hash, so a copy is the same delivery. */
export interface DeliveriesTable {
  spec: string;
  /** sha256 of the file's bytes. */
  fingerprint: string;
  source_uri: string;
  day: string;
  size: number;
  /** The file's modification time when it was claimed (ISO). */
  modified_at: string;
  /** The daily chain it was handed to. */
  workflow_id: string;
  /** The sensor run that claimed it: its retried claim is still its own. */
  claimed_by: string;
  created_at: string;
}

export const MODEL_STAGES = ['candidate', 'staging', 'production', 'archived', 'rejected'] as const;
export type ModelStage = (typeof MODEL_STAGES)[number];

export interface ModelVersionsTable {
  model_name: string;
  version: number;
  registration_key: string;
  stage: ModelStage;
  artifact_uri: string;
  metrics_json: string;
  lineage_json: string;
  workflow_id: string;
  run_id: string;
  created_at: string;
  updated_at: string;
}

export interface ModelDecisionsTable {
  dedupe_key: string;
  model_name: string;
  version: number;
  decision: string;
  actor: string;
  reason: string;
  workflow_id: string;
  created_at: string;
}

/** Who asked for a prediction: live traffic, the staging skew check's replay, or a batch job. */
export const PREDICTION_SOURCES = ['serving', 'skew-check', 'batch'] as const;
export type PredictionSource = (typeof PREDICTION_SOURCES)[number];

export interface PredictionLogTable {
  id: Generated<number>;
  request_id: string;
  model_name: string;
  model_version: number;
  stage: ModelStage;
  feature_set: string;
  feature_set_version: string;
  event_time: string;
  /** Entity name -> key (null when the row's key columns were null), as JSON. */
  entity_keys_json: string;
  request_json: string;
  /** Feature name -> the transformed model input, as JSON. */
  features_json: string;
  score: number;
  /** The staged candidate scoring the same row in shadow, when one ran; null otherwise. */
  shadow_version: number | null;
  shadow_score: number | null;
  source: PredictionSource;
  created_at: string;
}

export interface Tables {
  run_stats: RunStatsTable;
  lineage: LineageTable;
  alerts: AlertsTable;
  online_features: OnlineFeaturesTable;
  feature_partitions: FeaturePartitionsTable;
  feature_set_versions: FeatureSetVersionsTable;
  spec_versions: SpecVersionsTable;
  deliveries: DeliveriesTable;
  model_versions: ModelVersionsTable;
  model_decisions: ModelDecisionsTable;
  prediction_log: PredictionLogTable;
}
