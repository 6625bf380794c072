import { Redis } from 'ioredis';
import { batches, byEntityKey, checkNames, prepareRows, type OnlineRow, type OnlineStore } from './online-store';

/**
 * Compare-and-set of one batch, atomic because Redis runs a script without interleaving other
 * commands: a concurrent backfill cannot slip an older row in between the check and the write.
 * KEYS: one hash per row, then the entity-key index. ARGV: updatedAt, then (entityKey, values JSON,
 * validFrom) per row. Returns how many rows were written.
 *
 * validFrom is compared as text. Redis's Lua compares strings with strcoll, but normalised ISO
 * instants all have the same shape (digits at the same positions, separators at the same
 * positions), so any collation orders them digit by digit, i.e. by time.
 */
const UPSERT_LUA = `
local index = KEYS[#KEYS]
local updatedAt = ARGV[1]
local written = 0
for i = 1, #KEYS - 1 do
  local entityKey, values, validFrom = ARGV[3 * i - 1], ARGV[3 * i], ARGV[3 * i + 1]
  local stored = redis.call('HGET', KEYS[i], 'validFrom')
  if not stored or validFrom >= stored then
    redis.call('HSET', KEYS[i], 'values', values, 'validFrom', validFrom, 'updatedAt', updatedAt)
    redis.call('SADD', index, entityKey)
    written = written + 1
  end
end
return written
`;

/** defineCommand adds this method at runtime (EVALSHA, falling back to EVAL once per connection). */
interface UpsertCommand {
  mlpipeUpsertOnlineFeatures(numKeys: number, ...keysAndArgs: string[]): Promise<number>;
}

/**
 * Online store on Redis, for serving at lower latency than the metadata database. Layout:
 * `mlpipe:features:{featureSet}:{version}:{entityType}:{entityKey}` is a hash (values, validFrom,
 * updatedAt), and the set `mlpipe:feature-keys:{featureSet}:{version}:{entityType}` indexes the
 * entity keys for list(). Each batch of an upsert is atomic; the upsert as a whole is not, which
 * is harmless because a retry rewrites the same rows (monotonic, equal validFrom overwrites).
 * All keys of a batch go in one script call, so this targets a single Redis, not Redis Cluster.
 */
export class RedisOnlineStore implements OnlineStore {
  private readonly redis: Redis & UpsertCommand;

  constructor(url: string) {
    if (!/^rediss?:\/\//.test(url)) throw new Error(`online store: expected redis://host:port[/db], got ${url}`);
    const redis = new Redis(url);
    // Commands still reject while disconnected; without a listener ioredis would also print every
    // reconnect failure as an unhandled error event.
    redis.on('error', () => undefined);
    redis.defineCommand('mlpipeUpsertOnlineFeatures', { lua: UPSERT_LUA });
    this.redis = redis as Redis & UpsertCommand;
  }

  async upsert(featureSet: string, version: string, entityType: string, rows: OnlineRow[]): Promise<number> {
    checkNames(featureSet, version, entityType);
    const updatedAt = new Date().toISOString();
    const index = indexKey(featureSet, version, entityType);
    let written = 0;
    for (const batch of batches(prepareRows(rows))) {
      const keys = batch.map((row) => rowKey(featureSet, version, entityType, row.entityKey));
      const args = batch.flatMap((row) => [row.entityKey, JSON.stringify(row.values), row.validFrom]);
      written += await this.redis.mlpipeUpsertOnlineFeatures(keys.length + 1, ...keys, index, updatedAt, ...args);
    }
    return written;
  }

  async get(featureSet: string, version: string, entityType: string, entityKey: string) {
    const hash = await this.redis.hgetall(rowKey(featureSet, version, entityType, entityKey));
    if (hash.values === undefined || hash.validFrom === undefined || hash.updatedAt === undefined) return undefined;
    return { entityKey, values: parseValues(hash.values), validFrom: hash.validFrom, updatedAt: hash.updatedAt };
  }

  async list(featureSet: string, version: string, entityType: string): Promise<OnlineRow[]> {
    const entityKeys = await this.redis.smembers(indexKey(featureSet, version, entityType));
    const rows: OnlineRow[] = [];
    for (const batch of batches(entityKeys)) {
      const pipeline = this.redis.pipeline();
      for (const entityKey of batch)
        pipeline.hmget(rowKey(featureSet, version, entityType, entityKey), 'values', 'validFrom');
      const replies = (await pipeline.exec()) ?? [];
      replies.forEach(([error, reply], i) => {
        if (error) throw error;
        const [values, validFrom] = reply as [string | null, string | null];
        // A hash deleted behind our back (e.g. manual cleanup) leaves a dangling index entry: skip it.
        if (values !== null && validFrom !== null)
          rows.push({ entityKey: batch[i]!, values: parseValues(values), validFrom });
      });
    }
    return rows.sort(byEntityKey);
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}

function rowKey(featureSet: string, version: string, entityType: string, entityKey: string): string {
  return `mlpipe:features:${featureSet}:${version}:${entityType}:${entityKey}`;
}

function indexKey(featureSet: string, version: string, entityType: string): string {
  return `mlpipe:feature-keys:${featureSet}:${version}:${entityType}`;
}

function parseValues(json: string): OnlineRow['values'] {
  return JSON.parse(json) as OnlineRow['values'];
}
