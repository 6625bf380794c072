import fs from 'node:fs/promises';
import pg from 'pg';
import { z } from 'zod';
import { resolveSourceUri } from '../src/data/source-uri';
import type { ActivityDeps } from './deps';
import { parseInput } from './parse-input';

const PROBE_TIMEOUT_MS = 10_000;

export function createProbeActivities({ config }: ActivityDeps) {
  return {
    /**
     * Does the source answer? The cheapest question that fails the way ingestion would: the files are
     * readable, or the table can be queried. Used by the ingestion's circuit breaker while it is open.
     */
    async probeSource(raw: { sourceUri: string }): Promise<void> {
      const { sourceUri } = parseInput(z.object({ sourceUri: z.string().min(1).max(2048) }), raw);
      const source = await resolveSourceUri(sourceUri, config.dataDir);
      if (source.format !== 'postgres') {
        for (const file of source.files) await fs.access(file, fs.constants.R_OK);
        return;
      }
      const client = new pg.Client({
        connectionString: source.connectionUrl,
        connectionTimeoutMillis: PROBE_TIMEOUT_MS,
        query_timeout: PROBE_TIMEOUT_MS,
      });
      client.on('error', () => {}); // a dropped connection rejects the pending call below; nothing else listens
      await client.connect();
      try {
        const table = source.table
          .split('.')
          .map((part) => client.escapeIdentifier(part))
          .join('.');
        await client.query(`SELECT 1 FROM ${table} LIMIT 1`);
      } finally {
        await client.end().catch(() => {});
      }
    },
  };
}
