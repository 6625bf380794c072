/**
 * The failure vocabulary: the `type` of every ApplicationFailure a pipeline raises on purpose.
 * All are non-retryable: retrying cannot fix bad data, a bad model or a person's decision.
 */
export const ErrorTypes = {
  InvalidInput: 'InvalidInput',
  DataContractViolation: 'DataContractViolation',
  DataQualityGateFailed: 'DataQualityGateFailed',
  SourceNotFound: 'SourceNotFound',
  SourceUnreadable: 'SourceUnreadable',
  FeatureInputRejected: 'FeatureInputRejected',
  FeatureValidationFailed: 'FeatureValidationFailed',
  FeatureDefinitionChanged: 'FeatureDefinitionChanged',
  /** A range's computed days were removed before all of them were published: it must be computed again. */
  FeatureWorkLost: 'FeatureWorkLost',
  BackfillIncomplete: 'BackfillIncomplete',
  TrainingDataIncomplete: 'TrainingDataIncomplete',
  ModelQualityGateFailed: 'ModelQualityGateFailed',
  BiasGateFailed: 'BiasGateFailed',
  TrainingServingSkew: 'TrainingServingSkew',
  /** A scoring run's days have no published feature partition: backfill them first. */
  FeaturePartitionMissing: 'FeaturePartitionMissing',
  /** A scoring run's predictions are off the version's baseline beyond the spec's bound (blocking). */
  PredictionValidationFailed: 'PredictionValidationFailed',
  /** A trainer command exited with the documented "do not retry" code (65): bad data or configuration. */
  TrainerFailed: 'TrainerFailed',
  /** A trainer broke its contract: no model, an ONNX model that does not load or score, a malformed progress line. */
  TrainerContractViolation: 'TrainerContractViolation',
  /** A trainer printed no progress line for its spec's progressTimeoutSeconds: killed, not retried. */
  TrainerHung: 'TrainerHung',
  /** The trainer's Python environment cannot be made: no Python, or its requirements do not install. */
  TrainerEnvironmentUnavailable: 'TrainerEnvironmentUnavailable',
  /** The object store refused the credentials (wrong key or secret, no permission). */
  ObjectStoreAccessDenied: 'ObjectStoreAccessDenied',
  /** The configured bucket does not exist. */
  ObjectStoreBucketMissing: 'ObjectStoreBucketMissing',
  /** A published artifact cannot be read as its manifest says: an object missing, or changed after publishing. */
  ArtifactCorrupt: 'ArtifactCorrupt',
  ApprovalRejected: 'ApprovalRejected',
  ApprovalTimedOut: 'ApprovalTimedOut',
  ModelVersionNotFound: 'ModelVersionNotFound',
  NoProductionModel: 'NoProductionModel',
  SourceUnavailable: 'SourceUnavailable',
  /** A sensor's delivery whose day's chain could not start (that chain still runs): offered again next look. */
  DailyChainNotStarted: 'DailyChainNotStarted',
} as const;

export const NON_RETRYABLE_ERROR_TYPES: string[] = Object.values(ErrorTypes);
