import type { Kysely, Selectable } from 'kysely';
import type { OnlineFeaturesTable, Tables } from '../store/tables';

/** Entities per statement: a few statement shapes (see paddedLength), far below the parameter limits. */
const MAX_KEYS_PER_STATEMENT = 256;

interface PendingGet {
  featureSet: string;
  version: string;
  entityType: string;
  entityKey: string;
  resolve(row: Selectable<OnlineFeaturesTable> | undefined): void;
  reject(error: unknown): void;
}

/**
 * Point lookups of the online_features table, those asked for in the same turn (before the pending
 * microtasks run out) answered by one statement per feature-set version: the prediction server asks
 * for every entity of every row of the requests it batched at once, and a statement's fixed cost
 * (the query builder, the driver's round trip) was most of a lookup's. Each lookup still reads the
 * table after it was asked for, as a statement of its own would.
 */
export class SqlOnlineGets {
  private pending: PendingGet[] = [];

  constructor(private readonly db: Kysely<Tables>) {}

  get(
    featureSet: string,
    version: string,
    entityType: string,
    entityKey: string,
  ): Promise<Selectable<OnlineFeaturesTable> | undefined> {
    return new Promise((resolve, reject) => {
      if (this.pending.push({ featureSet, version, entityType, entityKey, resolve, reject }) === 1)
        queueMicrotask(() => this.flush());
    });
  }

  private flush(): void {
    const byVersion = new Map<string, PendingGet[]>();
    for (const p of this.pending.splice(0)) {
      const key = JSON.stringify([p.featureSet, p.version]);
      const gets = byVersion.get(key);
      if (gets) gets.push(p);
      else byVersion.set(key, [p]);
    }
    for (const gets of byVersion.values()) {
      for (let start = 0; start < gets.length; start += MAX_KEYS_PER_STATEMENT) {
        void this.answer(gets.slice(start, start + MAX_KEYS_PER_STATEMENT));
      }
    }
  }

  /** One statement for lookups of one feature-set version; each gets its entity's row or undefined. */
  private async answer(gets: PendingGet[]): Promise<void> {
    const { featureSet, version } = gets[0]!;
    const pairKey = (type: string, key: string) => JSON.stringify([type, key]);
    const pairs = [...new Map(gets.map((g) => [pairKey(g.entityType, g.entityKey), g])).values()];
    // Repeating the last entity changes nothing in an IN list, and keeps the statement texts few.
    const length = paddedLength(pairs.length);
    while (pairs.length < length) pairs.push(pairs[pairs.length - 1]!);
    try {
      const rows = await this.db
        .selectFrom('online_features')
        .selectAll()
        .where('feature_set', '=', featureSet)
        .where('version', '=', version)
        .where((eb) =>
          eb(
            eb.refTuple('entity_type', 'entity_key'),
            'in',
            pairs.map((p) => eb.tuple(p.entityType, p.entityKey)),
          ),
        )
        .execute();
      const found = new Map(rows.map((r) => [pairKey(r.entity_type, r.entity_key), r]));
      for (const g of gets) g.resolve(found.get(pairKey(g.entityType, g.entityKey)));
    } catch (error) {
      for (const g of gets) g.reject(error);
    }
  }
}

/** The next power of two: statements come in log2(MAX_KEYS_PER_STATEMENT) + 1 shapes, so prepared ones are reused. */
function paddedLength(n: number): number {
  return 2 ** Math.ceil(Math.log2(n));
}
