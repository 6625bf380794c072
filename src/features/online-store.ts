import { z } from 'zod';
import { TimestampSchema } from '../store/tables';

/** The latest feature values of one entity, valid from an event time. */
export interface OnlineRow {
  entityKey: string;
  values: Record<string, number | null>;
  /** ISO-8601 instant; stores normalise it to `toISOString()` form. */
  validFrom: string;
}

/**
 * Serving side of the feature store: the feature pipeline upserts each partition's latest values,
 * the prediction server reads them by entity. Rows are scoped by (featureSet, version, entityType).
 */
export interface OnlineStore {
  /**
   * Upserts rows of one (featureSet, version, entityType). Monotonic: a row replaces the stored one
   * only if its validFrom is >= the stored validFrom (backfills run out of order; a re-run of the
   * same partition rewrites the same values). Returns how many rows were written.
   */
  upsert(featureSet: string, version: string, entityType: string, rows: OnlineRow[]): Promise<number>;
  get(
    featureSet: string,
    version: string,
    entityType: string,
    entityKey: string,
  ): Promise<(OnlineRow & { updatedAt: string }) | undefined>;
  /** All rows of an entity type (for tests/inspection), ordered by entityKey. */
  list(featureSet: string, version: string, entityType: string): Promise<OnlineRow[]>;
  close(): Promise<void>;
}

/*
 * Helpers shared by the implementations, so every backend accepts, rejects and orders exactly the same.
 */

/** Rows per statement / script call: well under SQLite's and PostgreSQL's bound-parameter limits. */
export const UPSERT_BATCH_SIZE = 500;

/**
 * No ':' so that Redis keys built from the names cannot collide ('a:b' + 'c' vs 'a' + 'b:c');
 * enforced on every backend so a name never works on one and fails on another.
 */
const NameSchema = z
  .string()
  .min(1)
  .regex(/^[^:]+$/, "must not contain ':'");

const NamesSchema = z.object({ featureSet: NameSchema, version: NameSchema, entityType: NameSchema });

export function checkNames(featureSet: string, version: string, entityType: string): void {
  NamesSchema.parse({ featureSet, version, entityType });
}

/** zod's number rejects NaN and ±Infinity, which JSON would silently turn into null. */
const OnlineRowSchema = z.object({
  entityKey: z.string().min(1),
  values: z.record(z.string(), z.number().nullable()),
  validFrom: TimestampSchema,
});

/**
 * Validates rows, normalises validFrom (so text order is time order), and collapses repeated entity
 * keys to the row that sequential upserts would have left: the newest validFrom, the later one on a
 * tie. A batched statement may not touch the same key twice (PostgreSQL rejects it), and the count
 * of written rows is then per entity.
 */
export function prepareRows(rows: OnlineRow[]): OnlineRow[] {
  const latest = new Map<string, OnlineRow>();
  for (const row of parsedRows(rows) ?? z.array(OnlineRowSchema).parse(rows)) {
    const seen = latest.get(row.entityKey);
    if (seen === undefined || row.validFrom >= seen.validFrom) latest.set(row.entityKey, row);
  }
  return [...latest.values()];
}

/**
 * The rows as OnlineRowSchema parses them, without parsing each row: a partition upserts thousands,
 * and the schema's per-row work allocated more than anything else in a backfill. A snapshot's rows
 * share their validFrom, parsed once per distinct text. Undefined when a row fails any check, so the
 * schema parses them all and throws its own error, naming the row and field.
 */
function parsedRows(rows: OnlineRow[]): OnlineRow[] | undefined {
  if (!Array.isArray(rows)) return undefined;
  const validFroms = new Map<string, string>();
  const parsed: OnlineRow[] = [];
  for (const row of rows as unknown[]) {
    if (typeof row !== 'object' || row === null) return undefined;
    const { entityKey, values, validFrom } = row as Record<string, unknown>;
    if (typeof entityKey !== 'string' || entityKey === '' || typeof validFrom !== 'string') return undefined;
    const checked = featureValues(values);
    if (!checked) return undefined;
    let normalised = validFroms.get(validFrom);
    if (normalised === undefined) {
      const result = TimestampSchema.safeParse(validFrom);
      if (!result.success) return undefined;
      validFroms.set(validFrom, (normalised = result.data));
    }
    parsed.push({ entityKey, values: checked, validFrom: normalised });
  }
  return parsed;
}

/**
 * A copy of a plain object of finite numbers or nulls, as OnlineRowSchema's `values` parses it (each
 * value read once, so what is stored is what was checked); undefined for anything else, symbol keys
 * and a `__proto__` key included.
 */
function featureValues(values: unknown): Record<string, number | null> | undefined {
  if (typeof values !== 'object' || values === null || Object.getPrototypeOf(values) !== Object.prototype)
    return undefined;
  if (Object.getOwnPropertySymbols(values).length > 0) return undefined;
  const copy: Record<string, number | null> = {};
  for (const key of Object.keys(values)) {
    const v = (values as Record<string, unknown>)[key];
    if (key === '__proto__' || (v !== null && !Number.isFinite(v))) return undefined;
    copy[key] = v as number | null;
  }
  return copy;
}

export function batches<T>(items: T[], size = UPSERT_BATCH_SIZE): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

/**
 * Code-unit order, applied in JS rather than by the backend: PostgreSQL's ORDER BY follows the
 * database collation, which differs between installations.
 */
export function byEntityKey(a: OnlineRow, b: OnlineRow): number {
  return a.entityKey < b.entityKey ? -1 : a.entityKey > b.entityKey ? 1 : 0;
}
