import type { Kysely } from 'kysely';
import type { Tables } from '../store/tables';
import type { OnlineStore } from './online-store';
import { RedisOnlineStore } from './redis-online-store';
import { SqlOnlineStore } from './sql-online-store';

/**
 * `redis://...` (or `rediss://...`) → Redis; no URL → the metadata store's own database, so a
 * single-machine setup serves features without running anything extra.
 */
export function openOnlineStore(url: string | undefined, metadataDb: Kysely<Tables>): OnlineStore {
  if (url === undefined) return new SqlOnlineStore(metadataDb);
  if (/^rediss?:\/\//.test(url)) return new RedisOnlineStore(url);
  throw new Error(`online store: expected a redis:// URL, or none for the metadata database; got ${url}`);
}
