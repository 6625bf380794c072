import fs from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { sha256Files, type ArtifactKey } from '../src/data/artifact-store';
import { definitionHash, maxWindowDays } from '../src/features/feature-sql';
import type { OnlineRow } from '../src/features/online-store';
import { addDays, startOfDayIso } from '../src/features/partition-dates';
import { FeatureDefinitionChangedError } from '../src/store/feature-metadata';
import type { Spec } from '../src/specs/spec-schema';
import type { FeatureSet } from '../src/specs/feature-schema';
import { ErrorTypes } from '../src/api/errors';
import { datasetFiles } from '../src/data/dataset-files';
import type { GateOverride } from '../src/api/gate-override';
import type { ActivityDeps } from './deps';
import { batchKeys } from '../src/data/batch-keys';
import { callerRun } from './caller';

/**
 * The steps a feature partition goes through whether it runs alone (activities/features.ts) or with
 * the other days of a range (activities/feature-range.ts): one implementation, so both publish alike.
 */

export function featureSetOf(spec: Spec): FeatureSet {
  if (!spec.featureSet)
    throw ApplicationFailure.nonRetryable(`spec ${spec.name} declares no feature set`, ErrorTypes.InvalidInput);
  return spec.featureSet;
}

export const featureKey = (set: FeatureSet, partition: string): ArtifactKey => ({
  kind: 'features',
  name: set.name,
  version: set.version,
  partition,
});

/**
 * The dataset files features are computed from: the dataset asked for; for a daily dataset, the
 * published day partitions the days' windows need (the days and the longest window before the
 * first; a day never delivered is simply absent, which the input checks report); else the contract's
 * latest published snapshot.
 */
export async function featureInput(
  deps: ActivityDeps,
  spec: Spec,
  requested: string | undefined,
  days: readonly string[],
): Promise<{ inputUri: string; files: string[] }> {
  if (!requested && spec.contract.partitioning === 'daily') return dailyInput(deps, spec, days);
  const { store, artifacts } = deps;
  const inputUri = requested ?? (await store.runStats.latestPublished(spec.contract.name))?.outputUri ?? undefined;
  if (!inputUri)
    throw ApplicationFailure.nonRetryable(
      `no published ${spec.contract.name} dataset to compute features from: ingest one first`,
      ErrorTypes.FeatureInputRejected,
    );
  const dir = await artifacts.openIfPublished(inputUri);
  const files = dir ? await artifacts.parquetFiles(dir) : [];
  if (files.length === 0)
    throw ApplicationFailure.nonRetryable(`input ${inputUri} has no Parquet files`, ErrorTypes.FeatureInputRejected);
  return { inputUri, files };
}

/** A daily dataset's input: its published partitions from the first day's window to the last day; the URI names the last. */
async function dailyInput(
  deps: ActivityDeps,
  spec: Spec,
  days: readonly string[],
): Promise<{ inputUri: string; files: string[] }> {
  const first = addDays(days[0]!, -maxWindowDays(featureSetOf(spec)));
  const files = await datasetFiles(deps, spec, { from: first, to: days.at(-1)! });
  if (files.length === 0)
    throw ApplicationFailure.nonRetryable(
      `no published ${spec.contract.name} partition from ${first} to ${days.at(-1)}: ingest those days first`,
      ErrorTypes.FeatureInputRejected,
    );
  return { inputUri: deps.artifacts.uri(batchKeys(spec.contract, days.at(-1)!).dataset), files };
}

/** Registers the definition the version is computed with; a changed one under the same version fails for good. */
export async function registerFeatureDefinition({ store }: ActivityDeps, set: FeatureSet): Promise<string> {
  const hash = definitionHash(set);
  try {
    await store.features.registerDefinition(set.name, set.version, hash);
  } catch (error) {
    if (error instanceof FeatureDefinitionChangedError)
      throw ApplicationFailure.nonRetryable(error.message, ErrorTypes.FeatureDefinitionChanged);
    throw error;
  }
  return hash;
}

/** Publishes a computed offline partition: re-running a partition replaces it with the same bytes. */
export async function publishOfflinePartition(
  { artifacts }: ActivityDeps,
  set: FeatureSet,
  partition: string,
  computed: string,
): Promise<{ uri: string; hash: string }> {
  const key = featureKey(set, partition);
  const staged = path.join(artifacts.stagingDir(key), 'part-00000.parquet');
  await fs.mkdir(path.dirname(staged), { recursive: true });
  await fs.copyFile(computed, staged);
  const published = await artifacts.publish(key);
  return { uri: artifacts.uri(key), hash: await sha256Files(await artifacts.parquetFiles(published)) };
}

export interface PublishedPartition {
  inputUri: string;
  outputUri: string;
  outputHash: string;
  rows: number;
  stats: Record<string, unknown>;
  startedAt: string;
  /** Two reviewers let it through a failed validation that asked (features with onFail: 'ask'). */
  override?: GateOverride;
}

/** Records a published partition (the backfill's done-list and the input checks' history) and its lineage. */
export async function recordFeaturePartition(
  { store }: ActivityDeps,
  spec: Spec,
  set: FeatureSet,
  partition: string,
  p: PublishedPartition,
): Promise<void> {
  const { workflowId, runId } = callerRun();
  await store.features.recordPartition({
    feature_set: set.name,
    version: set.version,
    partition,
    status: 'published',
    rows: p.rows,
    input_uri: p.inputUri,
    output_uri: p.outputUri,
    output_hash: p.outputHash,
    stats: p.stats,
    duration_ms: Date.now() - Date.parse(p.startedAt),
    workflow_id: workflowId,
    run_id: runId,
    created_at: new Date().toISOString(),
  });
  await store.lineage.record({
    kind: 'features',
    outputUri: p.outputUri,
    sourceUri: p.inputUri,
    contractName: spec.contract.name,
    contractVersion: spec.contract.version,
    rowsRead: p.rows,
    rowsAccepted: p.rows,
    rowsRejected: 0,
    outputHash: p.outputHash,
    workflowId,
    runId,
    details: {
      partition,
      featureSetVersion: set.version,
      definitionHash: definitionHash(set),
      ...(p.override ? { gateOverride: p.override } : {}),
    },
  });
}

/** Snapshot rows read from DuckDB (entity_key, the feature values, in a range also valid_from: a day) as online rows. */
export function toOnlineRows(rows: Record<string, string | number | null>[], fixedValidFrom?: string): OnlineRow[] {
  return rows.map(({ entity_key, valid_from, ...values }) => ({
    entityKey: String(entity_key),
    values: values as Record<string, number | null>,
    validFrom: fixedValidFrom ?? startOfDayIso(String(valid_from)),
  }));
}
