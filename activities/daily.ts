import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { ErrorTypes } from '../src/api/errors';
import { DeliveryPatternSchema, WarehouseTableSchema } from '../src/api/daily';
import { tableDays } from '../src/data/postgres-source';
import { redactUri } from '../src/data/redact-uri';
import { confineToDataDir, resolveSourceUri } from '../src/data/source-uri';
import { maxWindowDays } from '../src/features/feature-sql';
import { addDays, isPartition, partitionRange } from '../src/features/partition-dates';
import { loadSpec } from '../src/specs';
import { callerRun } from './caller';
import type { ActivityDeps } from './deps';
import { parseInput } from './parse-input';

const FindInputSchema = z.object({ spec: z.string().min(1), pattern: DeliveryPatternSchema });
const FindTableInputSchema = z.object({ spec: z.string().min(1), table: WarehouseTableSchema });
const ClaimInputSchema = z.object({
  spec: z.string().min(1),
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  sourceUri: z.string().min(1),
  day: z.string().refine(isPartition, 'a day as YYYY-MM-DD'),
  size: z.number().int().nonnegative(),
  modifiedAt: z.iso.datetime(),
  workflowId: z.string().min(1),
});
const ReleaseInputSchema = z.object({
  spec: z.string().min(1),
  day: z.string().refine(isPartition, 'a day as YYYY-MM-DD'),
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
});
const PlanInputSchema = z.object({
  spec: z.string().min(1),
  day: z.string().refine(isPartition, 'a day as YYYY-MM-DD'),
});

export interface FoundDelivery {
  day: string;
  /** The file, relative to the data directory (what ingestion takes as its source). */
  sourceUri: string;
  fingerprint: string;
  size: number;
  /** The file's modification time: when the delivery arrived, the as-of time its freshness is judged at. */
  modifiedAt: string;
}

/** The day a chain watches the production model on, or why it does not. */
export type MonitoringPlan =
  { status: 'ready'; model: string; day: string } | { status: 'notYet' | 'none'; reason: string };

/** What a day's chain can compute: the feature partitions, in order, or why none yet. */
export type FeaturePlan =
  { status: 'ready'; featureSet: string; days: string[] } | { status: 'notYet' | 'none'; reason: string };

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The file-name part of a delivery pattern as a regular expression; its one group is the day. */
function fileNameRegExp(pattern: string): RegExp {
  const [before, after] = path.basename(pattern).split('{day}') as [string, string];
  const part = (s: string) => s.split('*').map(escapeRegExp).join('[^/]*');
  return new RegExp(`^${part(before)}(\\d{4}-\\d{2}-\\d{2})${part(after)}$`);
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The sensor run calling: its claims are its own, also when an activity is retried. */
const claimant = () => {
  const info = callerRun();
  return `${info.workflowId}/${info.runId}`;
};

export function createDailyActivities({ config, store }: ActivityDeps) {
  return {
    /**
     * The files matching a sensor's pattern that no chain has claimed yet (by content: a copy of a
     * claimed file, under any name, is not new), in day order. A file must be moved into the folder
     * whole (written elsewhere, then renamed): a file still being written would be read half.
     */
    async findNewDeliveries(raw: z.input<typeof FindInputSchema>): Promise<FoundDelivery[]> {
      const { spec, pattern } = parseInput(FindInputSchema, raw);
      loadSpec(spec);
      const folder = path.dirname(pattern);
      const dir = confineToDataDir(folder, config.dataDir);
      const names = await fs.readdir(dir).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [] as string[];
        throw error;
      });
      const match = fileNameRegExp(pattern);
      const files = names.flatMap((name) => {
        const day = match.exec(name)?.[1];
        return day && isPartition(day) ? [{ name, day, sourceUri: path.posix.join(folder, name) }] : [];
      });
      const known = await store.deliveries.claimedFiles(
        spec,
        files.map((f) => f.sourceUri),
      );
      const found: FoundDelivery[] = [];
      for (const { name, day, sourceUri } of files) {
        const file = path.join(dir, name);
        const stat = await fs.stat(file);
        if (!stat.isFile()) continue;
        const modifiedAt = stat.mtime.toISOString();
        const claimed = known.get(sourceUri);
        // Unchanged since it was claimed: not hashed again (a folder keeps months of nights).
        if (claimed && claimed.size === stat.size && claimed.modifiedAt === modifiedAt) continue;
        found.push({ day, sourceUri, fingerprint: await sha256File(file), size: stat.size, modifiedAt });
      }
      const claimed = await store.deliveries.claimed(
        spec,
        found.map((f) => f.fingerprint),
      );
      const seen = new Set<string>();
      const key = (f: FoundDelivery) => `${f.day}/${f.fingerprint}`;
      return found
        .filter((f) => !claimed.has(key(f)) && !seen.has(key(f)) && seen.add(key(f)))
        .sort((a, b) => a.day.localeCompare(b.day) || a.sourceUri.localeCompare(b.sourceUri));
    },

    /**
     * The days of a warehouse table whose rows no chain has claimed as they are now, in day order: a
     * day's fingerprint is its row count and the sum of its rows' hashes, so a day with rows added,
     * changed or removed is new again (its chain replaces the day). Each is delivered as the table
     * restricted to its day of the event time (`day=...&dayColumn=...`), as of now.
     */
    async findNewTableDays(raw: z.input<typeof FindTableInputSchema>): Promise<FoundDelivery[]> {
      const { spec: name, table } = parseInput(FindTableInputSchema, raw);
      const spec = loadSpec(name);
      const source = await resolveSourceUri(table, config.dataDir);
      if (source.format !== 'postgres') throw new Error(`${table} is not a warehouse table`);
      const days = await tableDays(source, spec.contract.eventTime);
      const found = days.map((d) => ({
        day: d.day,
        sourceUri: `${table}&day=${d.day}&dayColumn=${spec.contract.eventTime}`,
        fingerprint: createHash('sha256').update(`${d.rows}:${d.hashSum}`).digest('hex'),
        size: d.rows,
        modifiedAt: new Date().toISOString(),
      }));
      const claimed = await store.deliveries.claimed(
        name,
        found.map((f) => f.fingerprint),
      );
      return found.filter((f) => !claimed.has(`${f.day}/${f.fingerprint}`));
    },

    /** Claims a delivery for its chain; false when the same bytes for its day were claimed before (not ingested twice). */
    async claimDelivery(raw: z.input<typeof ClaimInputSchema>): Promise<boolean> {
      const delivery = parseInput(ClaimInputSchema, raw);
      return store.deliveries.claim({ ...delivery, sourceUri: redactUri(delivery.sourceUri), claimedBy: claimant() });
    },

    /** Gives back this sensor run's claim of a delivery whose chain could not start. */
    async releaseDelivery(raw: z.input<typeof ReleaseInputSchema>): Promise<void> {
      const { spec, day, fingerprint } = parseInput(ReleaseInputSchema, raw);
      await store.deliveries.release(spec, day, fingerprint, claimant());
    },

    /**
     * What a day's chain monitors: the production model on the day whose labels the night brought in
     * (the day its label delay before), once a production model exists and that day was delivered.
     */
    async planDailyMonitoring(raw: z.input<typeof PlanInputSchema>): Promise<MonitoringPlan> {
      const { spec: name, day } = parseInput(PlanInputSchema, raw);
      const spec = loadSpec(name);
      if (!spec.model || !spec.monitoring) return { status: 'none', reason: `spec ${name} watches no model` };
      const production = await store.models.production(spec.model.name);
      if (!production) return { status: 'notYet', reason: `no production version of ${spec.model.name} yet` };
      const watched = addDays(day, -Math.ceil(spec.monitoring.labelDelayHours / 24));
      const published = await store.runStats.publishedBatches(spec.contract.name, [watched]);
      if (published.length === 0)
        return { status: 'notYet', reason: `${watched}, whose labels ${day} brought, was not delivered` };
      return { status: 'ready', model: spec.model.name, day: watched };
    },

    /**
     * The feature partitions a day's chain computes once its night is published: the day itself, then
     * each later published day whose window holds it and which has no partition yet (they waited for a
     * night that arrived out of order). A day is computable when the nights of its window since the feed
     * began are all published and are as many as a window needs. A feed younger than that computes
     * nothing for the day yet (but may for later days that waited); a night missing from the day's window
     * stops the chain (non-retryable FeatureInputRejected, naming it): features are never computed
     * without it.
     */
    async planDailyFeatures(raw: z.input<typeof PlanInputSchema>): Promise<FeaturePlan> {
      const { spec: name, day } = parseInput(PlanInputSchema, raw);
      const spec = loadSpec(name);
      const set = spec.featureSet;
      if (!set) return { status: 'none', reason: `spec ${name} declares no feature set` };
      const window = maxWindowDays(set);
      const needed = Math.min(set.validation.minHistoryDays, window);
      const contract = spec.contract.name;
      const span = partitionRange(addDays(day, -window), addDays(day, window));
      const published = new Set((await store.runStats.publishedBatches(contract, span)).map((r) => r.batchId));
      const began = (await store.runStats.publishedBatchIdBounds(contract))?.first ?? day;
      const before = (d: string) => partitionRange(addDays(d, -window), addDays(d, -1)).filter((x) => x >= began);
      const young = (d: string) => before(d).length < needed;
      const complete = (d: string) => before(d).every((x) => published.has(x));
      const waiting: string[] = [];
      for (const later of partitionRange(addDays(day, 1), addDays(day, window))) {
        if (!published.has(later) || young(later) || !complete(later)) continue;
        if (!(await store.features.get(set.name, set.version, later))) waiting.push(later);
      }
      const featureSet = `${set.name}@${set.version}`;
      if (young(day)) {
        if (waiting.length > 0) return { status: 'ready', featureSet, days: waiting };
        return {
          status: 'notYet',
          reason: `the feed began on ${began}: ${before(day).length} of the ${needed} days before ${day} a window needs`,
        };
      }
      const missing = before(day).filter((d) => !published.has(d));
      if (missing.length > 0)
        throw ApplicationFailure.nonRetryable(
          `features of ${day} need the nights before it: ${missing.join(', ')} not published (a night out of order is ingested by its own chain, which then computes the days that waited for it)`,
          ErrorTypes.FeatureInputRejected,
          { missing },
        );
      return { status: 'ready', featureSet, days: [day, ...waiting] };
    },
  };
}
