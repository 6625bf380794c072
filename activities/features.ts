import fs from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { queryRows, sqlString, withConnection } from '../src/data/duckdb';
import { entitiesWithFeatures, offlinePartitionSql, onlineSnapshotSql } from '../src/features/feature-sql';
import { buildFeatureReport, summarizeFeatureFailures, type FeatureReport } from '../src/features/feature-report';
import { checkPartitionInput, extractPartition, type ExtractedPartition } from '../src/features/partition-input';
import { addDays, isPartition, startOfDayIso } from '../src/features/partition-dates';
import { validateFeatures as judgeFeatures, type FeatureStats } from '../src/features/validate-features';
import { loadSpec } from '../src/specs';
import type { FeatureSet } from '../src/specs/feature-schema';
import { ErrorTypes } from '../src/api/errors';
import { GateOverrideSchema } from '../src/quality/gate-report';
import type { ActivityDeps } from './deps';
import { parseInput } from './parse-input';
import {
  featureInput,
  featureKey,
  featureSetOf,
  publishOfflinePartition,
  recordFeaturePartition,
  registerFeatureDefinition,
  toOnlineRows,
} from './feature-steps';

const PartitionInputSchema = z.object({
  spec: z.string().min(1),
  partition: z.string().refine(isPartition, 'a day as YYYY-MM-DD'),
});
export type PartitionInput = z.infer<typeof PartitionInputSchema>;

const ExtractInputSchema = PartitionInputSchema.extend({ inputUri: z.string().startsWith('artifact:').optional() });
const CheckInputSchema = PartitionInputSchema.extend({
  extracted: z.object({
    partitionRows: z.number(),
    historyRows: z.number(),
    historyDays: z.number(),
    newestEvent: z.string().nullable(),
  }),
});
const RecordInputSchema = PartitionInputSchema.extend({
  inputUri: z.string(),
  outputUri: z.string(),
  outputHash: z.string(),
  rows: z.number().int().nonnegative(),
  stats: z.record(z.string(), z.unknown()),
  startedAt: z.iso.datetime(),
  /** Two reviewers' override of a validation that failed and asked first: kept in the lineage. */
  override: GateOverrideSchema.optional(),
});

export interface ExtractedInput extends ExtractedPartition {
  inputUri: string;
}

export function createFeatureActivities(deps: ActivityDeps) {
  const { duck, artifacts, store, online } = deps;
  // A partition's steps hand each other files through its work area, mirrored to the object store
  // after each step that writes it, so the next step may run on any host.
  const work = (set: FeatureSet, partition: string) => artifacts.restore(featureKey(set, partition), 'work');
  const saveWork = (set: FeatureSet, partition: string) => artifacts.checkpoint(featureKey(set, partition), 'work');
  const load = (raw: unknown) => {
    const input = parseInput(PartitionInputSchema, raw);
    const spec = loadSpec(input.spec);
    return { spec, fs: featureSetOf(spec), partition: input.partition };
  };
  const fail = (message: string, type: string, report: FeatureReport) =>
    ApplicationFailure.nonRetryable(message, type, { report });

  return {
    /** The partitions among `partitions` already published for the spec's feature-set version. */
    async publishedFeaturePartitions(raw: { spec: string; partitions: string[] }): Promise<string[]> {
      const input = parseInput(
        z.object({ spec: z.string().min(1), partitions: z.array(z.string().refine(isPartition)).max(10_000) }),
        raw,
      );
      const set = featureSetOf(loadSpec(input.spec));
      return store.features.publishedPartitions(set.name, set.version, input.partitions);
    },

    /** Copies the partition's day and its look-back window out of the published dataset (featureInput). */
    async extractFeatureInput(raw: z.input<typeof ExtractInputSchema>): Promise<ExtractedInput> {
      const { spec, fs: set, partition } = load(raw);
      const { inputUri: requested } = parseInput(ExtractInputSchema, raw);
      const { inputUri, files } = await featureInput(deps, spec, requested, [partition]);
      const dir = await work(set, partition);
      await fs.mkdir(dir, { recursive: true });
      const extracted = await withConnection(duck, (conn) =>
        extractPartition(conn, set, spec.contract, files, partition, path.join(dir, 'extract.parquet')),
      );
      await saveWork(set, partition);
      return { inputUri, ...extracted };
    },

    /** Stops a stale or degraded input before anything is computed or written. */
    async checkFeatureInput(raw: z.input<typeof CheckInputSchema>): Promise<FeatureReport> {
      const { spec, fs: set, partition } = load(raw);
      const { extracted } = parseInput(CheckInputSchema, raw);
      const recent = await store.features.recentRowCounts(set.name, set.version, partition, 7);
      const report = buildFeatureReport(
        set.name,
        set.version,
        partition,
        checkPartitionInput(
          set,
          spec.contract,
          partition,
          extracted,
          recent.map((r) => r.rows),
        ),
      );
      if (!report.passed)
        throw fail(
          `input of ${set.name} v${set.version} partition ${partition} rejected: ${summarizeFeatureFailures(report)}`,
          ErrorTypes.FeatureInputRejected,
          report,
        );
      return report;
    },

    /** Computes the offline rows of the day and the online snapshots valid from the next day. */
    async computeFeatures(raw: PartitionInput): Promise<{ rows: number; definitionHash: string }> {
      const { spec, fs: set, partition } = load(raw);
      const hash = await registerFeatureDefinition(deps, set);
      const dir = await work(set, partition);
      const source = `read_parquet(${sqlString(path.join(dir, 'extract.parquet'))})`;
      const rows = await withConnection(duck, async (conn) => {
        await conn.run(
          `COPY (${offlinePartitionSql(set, spec.contract, source, partition)}) TO ${sqlString(path.join(dir, 'offline.parquet'))} (FORMAT parquet)`,
        );
        for (const entity of entitiesWithFeatures(set)) {
          await conn.run(
            `COPY (${onlineSnapshotSql(set, spec.contract, source, entity, addDays(partition, 1))}) TO ${sqlString(path.join(dir, `online-${entity}.parquet`))} (FORMAT parquet)`,
          );
        }
        const [count] = await queryRows<{ n: number }>(
          conn,
          `SELECT count(*) AS n FROM read_parquet(${sqlString(path.join(dir, 'offline.parquet'))})`,
        );
        return count!.n;
      });
      await saveWork(set, partition);
      return { rows, definitionHash: hash };
    },

    /** Blocking: nulls and ranges. Warning: distribution against the previous published partition. */
    async validateFeatures(
      raw: PartitionInput,
    ): Promise<{ report: FeatureReport; stats: FeatureStats; ask?: { reviewers: string[]; deadlineHours: number } }> {
      const { spec, fs: set, partition } = load(raw);
      const previous = await store.features.previousPublished(set.name, set.version, partition);
      const previousFiles = previous?.output_uri
        ? await artifacts.parquetFiles(await artifacts.open(previous.output_uri))
        : [];
      const dir = await work(set, partition);
      const { stats, checks } = await withConnection(duck, (conn) =>
        judgeFeatures(conn, set, path.join(dir, 'offline.parquet'), previousFiles[0]),
      );
      const report = buildFeatureReport(set.name, set.version, partition, checks);
      // Asking: the run waits for the reviewers' word instead of failing (nothing is written before it).
      if (!report.passed && set.validation.onFail === 'ask' && spec.contract.overrides) {
        const { reviewers, deadlineHours } = spec.contract.overrides;
        return { report, stats, ask: { reviewers, deadlineHours } };
      }
      if (!report.passed)
        throw fail(
          `features of ${set.name} v${set.version} partition ${partition} failed validation: ${summarizeFeatureFailures(report)}`,
          ErrorTypes.FeatureValidationFailed,
          report,
        );
      return { report, stats };
    },

    /** Publishes the offline partition: re-running a partition replaces it with the same bytes. */
    async writeOfflinePartition(raw: PartitionInput): Promise<{ uri: string; hash: string }> {
      const { fs: set, partition } = load(raw);
      return publishOfflinePartition(deps, set, partition, path.join(await work(set, partition), 'offline.parquet'));
    },

    /** Upserts each entity's snapshot, valid from the start of the next day (never moving backwards). */
    async updateOnlineStore(raw: PartitionInput): Promise<{ validFrom: string; written: Record<string, number> }> {
      const { fs: set, partition } = load(raw);
      const validFrom = startOfDayIso(addDays(partition, 1));
      const written: Record<string, number> = {};
      const dir = await work(set, partition);
      for (const entity of entitiesWithFeatures(set)) {
        const file = path.join(dir, `online-${entity}.parquet`);
        // Snapshots are small (one row per airport or route), so they pass through JavaScript.
        const rows = await withConnection(duck, (conn) =>
          queryRows<Record<string, string | number | null>>(conn, `SELECT * FROM read_parquet(${sqlString(file)})`),
        );
        written[entity] = await online.upsert(set.name, set.version, entity, toOnlineRows(rows, validFrom));
      }
      return { validFrom, written };
    },

    /** Records the partition (the backfill's done-list and the input checks' history) and its lineage. */
    async recordFeaturePartition(raw: z.input<typeof RecordInputSchema>): Promise<void> {
      const input = parseInput(RecordInputSchema, raw);
      const { spec, fs: set, partition } = load(raw);
      await recordFeaturePartition(deps, spec, set, partition, input);
      await artifacts.discard(featureKey(set, partition), 'work');
    },
  };
}
