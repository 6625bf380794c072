import fs from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { exists } from '../src/data/atomic-files';
import { z } from 'zod';
import { queryRows, sqlString, withConnection, type DuckDBConnection } from '../src/data/duckdb';
import {
  entitiesWithFeatures,
  offlineRangeOrder,
  offlineRangeSql,
  onlineRangeSnapshotSql,
  RANGE_DAY_COLUMN,
} from '../src/features/feature-sql';
import { buildFeatureReport, summarizeFeatureFailures } from '../src/features/feature-report';
import { checkPartitionInput, extractRange } from '../src/features/partition-input';
import { isPartition } from '../src/features/partition-dates';
import {
  driftChecks,
  driftChecksAgainstDays,
  featureStats,
  featureStatsByDay,
  judgeFeatures,
  type FeatureStats,
} from '../src/features/validate-features';
import { loadSpec } from '../src/specs';
import type { FeatureSet } from '../src/specs/feature-schema';
import { ErrorTypes } from '../src/api/errors';
import { MAX_DAYS_PER_RUN } from '../src/api/features';
import type { ActivityDeps } from './deps';
import {
  featureInput,
  featureKey,
  featureSetOf,
  publishOfflinePartition,
  recordFeaturePartition,
  registerFeatureDefinition,
  toOnlineRows,
} from './feature-steps';
import { parseInput } from './parse-input';

const DaysSchema = z
  .array(z.string().refine(isPartition, 'a day as YYYY-MM-DD'))
  .min(1)
  .max(MAX_DAYS_PER_RUN)
  .refine((days) => days.every((d, i) => i === 0 || days[i - 1]! < d), 'days in increasing order, each once');
const ComputeRangeSchema = z.object({
  spec: z.string().min(1),
  days: DaysSchema,
  inputUri: z.string().startsWith('artifact:').optional(),
});
/** The temporary table holding a range's computed rows while its days are written and checked. */
const RANGE_ROWS = 'range_rows';

const PublishRangeSchema = z.object({
  spec: z.string().min(1),
  /** The days computeFeatureRange ran on (its work directory); `days` are those of them to publish. */
  computed: DaysSchema,
  inputUri: z.string(),
  startedAt: z.iso.datetime(),
  days: z
    .array(
      z.object({
        day: z.string().refine(isPartition),
        rows: z.number().int().nonnegative(),
        stats: z.record(z.string(), z.unknown()),
      }),
    )
    .min(1)
    .max(MAX_DAYS_PER_RUN),
});

/** A day of a range: computed and validated (warnings name failed warning checks), or refused with the per-day failure type. */
export type RangeDay =
  | { day: string; computed: true; rows: number; stats: FeatureStats & { definitionHash: string }; warnings: string[] }
  | { day: string; computed: false; type: string; reason: string };

export interface ComputedRange {
  inputUri: string;
  days: RangeDay[];
  /** Where the run's time went: operators read it in the history, the features bench sums it. */
  seconds: { extract: number; write: number; check: number };
}

export interface PublishedRange {
  days: { day: string; uri: string; hash: string }[];
  onlineWritten: Record<string, number>;
  /** Where the run's time went (absent when an earlier attempt had published everything). */
  seconds?: { offline: number; online: number; records: number };
}

/** Runs `work` and adds its wall time, in seconds, to `into[phase]`. */
async function timed<P extends string, T>(into: Record<P, number>, phase: P, work: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await work();
  } finally {
    into[phase] += (performance.now() - t0) / 1000;
  }
}

/**
 * A backfill's days in two activities instead of seven per day: the rows of every day computed by one
 * statement (the per-day SQL's aggregates over the same windows), then each day checked as its own
 * partition would have been, in day order: input freshness, history and volume against the partitions
 * published before it (earlier days of the range included), then nulls, ranges and distribution
 * against the newest partition before it. A day that fails is refused with the type and reason its
 * own run would have failed with; the others go on.
 */
export function createFeatureRangeActivities(deps: ActivityDeps) {
  const { duck, artifacts, store, online } = deps;
  const rangeKey = (set: FeatureSet, days: readonly string[]) => featureKey(set, `range-${days[0]}_${days.at(-1)}`);
  const dayFile = (dir: string, day: string) => path.join(dir, `${day}.parquet`);

  return {
    async computeFeatureRange(raw: z.input<typeof ComputeRangeSchema>): Promise<ComputedRange> {
      const input = parseInput(ComputeRangeSchema, raw);
      const spec = loadSpec(input.spec);
      const set = featureSetOf(spec);
      const seconds = { extract: 0, write: 0, check: 0 };
      const definitionHash = await registerFeatureDefinition(deps, set);
      const dir = artifacts.workDir(rangeKey(set, input.days));
      const extract = path.join(dir, 'extract.parquet');

      const computed = await withConnection(duck, async (conn) => {
        const { inputUri, extracted } = await timed(seconds, 'extract', async () => {
          const found = await featureInput(deps, spec, input.inputUri, input.days);
          await fs.rm(dir, { recursive: true, force: true });
          await fs.mkdir(dir, { recursive: true });
          const rows = await extractRange(conn, set, spec.contract, found.files, input.days, extract);
          return { inputUri: found.inputUri, extracted: rows };
        });
        const rows = await timed(seconds, 'write', () => writeDayFiles(conn, set, spec, extract, input.days, dir));
        const checked = await timed(seconds, 'check', () =>
          checkDays(conn, spec, set, { days: input.days, dir, definitionHash }, extracted, rows),
        );
        await conn.run(`DROP TABLE ${RANGE_ROWS}`);
        return { inputUri, days: checked };
      });
      await artifacts.checkpoint(rangeKey(set, input.days), 'work');
      return { ...computed, seconds };
    },

    /** Publishes the computed days: offline partitions, the online snapshot they leave, then the records backfills plan from. */
    async publishFeatureRange(raw: z.input<typeof PublishRangeSchema>): Promise<PublishedRange> {
      const input = parseInput(PublishRangeSchema, raw);
      const spec = loadSpec(input.spec);
      const set = featureSetOf(spec);
      const days = input.days.map((d) => d.day);
      const dir = await artifacts.restore(rangeKey(set, input.computed), 'work');
      // The work directory goes last, so an attempt that finds it gone follows one that finished
      // everything but reporting it (a worker killed in between): the records say what it published.
      if (!(await exists(dir))) return alreadyPublished(set, days);
      const seconds = { offline: 0, online: 0, records: 0 };
      const published = await timed(seconds, 'offline', async () => {
        const out = [];
        for (const d of days) out.push({ day: d, ...(await publishOfflinePartition(deps, set, d, dayFile(dir, d))) });
        return out;
      });
      const onlineWritten: Record<string, number> = {};
      const source = `read_parquet(${sqlString(path.join(dir, 'extract.parquet'))})`;
      await timed(seconds, 'online', () =>
        withConnection(duck, async (conn) => {
          for (const entity of entitiesWithFeatures(set)) {
            // Per entity key, the snapshot of the newest published day that holds it: what upserting day by day leaves.
            const rows = await queryRows<Record<string, string | number | null>>(
              conn,
              onlineRangeSnapshotSql(set, spec.contract, source, entity, days),
            );
            onlineWritten[entity] = await online.upsert(set.name, set.version, entity, toOnlineRows(rows));
          }
        }),
      );
      await timed(seconds, 'records', async () => {
        for (const [i, d] of input.days.entries()) {
          await recordFeaturePartition(deps, spec, set, d.day, {
            inputUri: input.inputUri,
            outputUri: published[i]!.uri,
            outputHash: published[i]!.hash,
            rows: d.rows,
            stats: d.stats,
            startedAt: input.startedAt,
          });
        }
      });
      await artifacts.discard(rangeKey(set, input.computed), 'work');
      return { days: published, onlineWritten, seconds };
    },
  };

  /**
   * Each day checked as its own partition would have been, in day order: input freshness, history and
   * volume against the partitions published before it (earlier days of the range included), then nulls,
   * ranges and distribution against the newest partition before it. Every day's statistics and its
   * distribution against the day before it come from a few statements over all the days' rows; a day whose
   * previous partition is another (the day before was refused) is checked against that one on its own.
   */
  async function checkDays(
    conn: DuckDBConnection,
    spec: ReturnType<typeof loadSpec>,
    set: FeatureSet,
    range: { days: string[]; dir: string; definitionHash: string },
    extracted: Awaited<ReturnType<typeof extractRange>>,
    rows: Map<string, number>,
  ): Promise<RangeDay[]> {
    const { days, dir, definitionHash } = range;
    const statsByDay = await featureStatsByDay(conn, set, RANGE_ROWS, RANGE_DAY_COLUMN);
    const afterDayBefore = days.slice(1).map((day, i) => ({ day, previous: days[i]! }));
    const driftByDay = await driftChecksAgainstDays(conn, set, RANGE_ROWS, RANGE_DAY_COLUMN, afterDayBefore);
    // Published partitions (earlier days of this range included), newest first, as each day's checks see them.
    const passed: { partition: string; rows: number; file: string }[] = [];
    const out: RangeDay[] = [];
    for (const day of days) {
      const recent = [
        ...passed.filter((p) => p.partition < day),
        ...(await store.features.recentRowCounts(set.name, set.version, day, 7)),
      ]
        .sort((a, b) => (a.partition < b.partition ? 1 : -1))
        .slice(0, 7);
      const inputReport = buildFeatureReport(
        set.name,
        set.version,
        day,
        checkPartitionInput(
          set,
          spec.contract,
          day,
          extracted.get(day)!,
          recent.map((r) => r.rows),
        ),
      );
      if (!inputReport.passed) {
        out.push({
          day,
          computed: false,
          type: ErrorTypes.FeatureInputRejected,
          reason: `input of ${set.name} v${set.version} partition ${day} rejected: ${summarizeFeatureFailures(inputReport)}`,
        });
        continue;
      }
      const previous = await previousPartitionFile(set, day, passed);
      const file = dayFile(dir, day);
      const stats = statsByDay.get(day) ?? (await featureStats(conn, set, file));
      const dayBefore = afterDayBefore.find((p) => p.day === day)?.previous;
      const drift =
        dayBefore !== undefined && previous === dayFile(dir, dayBefore)
          ? driftByDay.get(day)!()
          : await driftChecks(conn, set, file, previous);
      const checks = judgeFeatures(set, stats, drift);
      const report = buildFeatureReport(set.name, set.version, day, checks);
      if (!report.passed) {
        out.push({
          day,
          computed: false,
          type: ErrorTypes.FeatureValidationFailed,
          reason: `features of ${set.name} v${set.version} partition ${day} failed validation: ${summarizeFeatureFailures(report)}`,
        });
        continue;
      }
      passed.unshift({ partition: day, rows: rows.get(day) ?? 0, file: dayFile(dir, day) });
      const warnings = report.checks
        .filter((c) => c.verdict === 'fail')
        .map((c) => `${c.gate}(${c.subject}): ${c.detail}`);
      out.push({ day, computed: true, rows: rows.get(day) ?? 0, stats: { ...stats, definitionHash }, warnings });
    }
    return out;
  }

  async function alreadyPublished(set: FeatureSet, days: string[]): Promise<PublishedRange> {
    const records = await Promise.all(days.map((day) => store.features.get(set.name, set.version, day)));
    const missing = days.filter((_, i) => !records[i]?.output_uri || !records[i]?.output_hash);
    if (missing.length > 0)
      throw ApplicationFailure.nonRetryable(
        `the computed range ${days[0]}..${days.at(-1)} is gone and ${missing.join(', ')} not published: compute the range again`,
        ErrorTypes.FeatureWorkLost,
      );
    return {
      days: days.map((day, i) => ({ day, uri: records[i]!.output_uri!, hash: records[i]!.output_hash! })),
      onlineWritten: {},
    };
  }

  /** The newest partition before `day`: a day of this range that passed, or a published one, whichever is newer. */
  async function previousPartitionFile(
    set: FeatureSet,
    day: string,
    passed: { partition: string; file: string }[],
  ): Promise<string | undefined> {
    const inRange = passed.find((p) => p.partition < day);
    const stored = await store.features.previousPublished(set.name, set.version, day);
    if (inRange && (!stored || inRange.partition > stored.partition)) return inRange.file;
    if (!stored?.output_uri) return undefined;
    return (await artifacts.parquetFiles(await artifacts.open(stored.output_uri)))[0];
  }
}

/**
 * Every day's rows, in the order its own partition orders them, one file per day; returns the row
 * counts. The rows stay in the temporary table RANGE_ROWS for the checks.
 */
async function writeDayFiles(
  conn: DuckDBConnection,
  set: FeatureSet,
  spec: ReturnType<typeof loadSpec>,
  extract: string,
  days: readonly string[],
  dir: string,
): Promise<Map<string, number>> {
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE ${RANGE_ROWS} AS ${offlineRangeSql(set, spec.contract, `read_parquet(${sqlString(extract)})`, days)}`,
  );
  const counts = new Map<string, number>();
  for (const day of days) {
    const ofDay = `${RANGE_DAY_COLUMN} = TIMESTAMP ${sqlString(`${day} 00:00:00`)}`;
    // COPY answers with the number of rows it wrote.
    const [written] = await queryRows<{ Count: number }>(
      conn,
      `COPY (SELECT * EXCLUDE (${RANGE_DAY_COLUMN}) FROM ${RANGE_ROWS} WHERE ${ofDay} ORDER BY ${offlineRangeOrder(spec.contract)}) TO ${sqlString(path.join(dir, `${day}.parquet`))} (FORMAT parquet)`,
    );
    counts.set(day, written!.Count);
  }
  return counts;
}
