/**
 * The server side of the serving benchmark, in a process of its own (so the load generator does not
 * share its event loop, and its CPU time is its own). `predict` opens the stores the way `mlpipe serve`
 * does and starts `startServing` with a logger at warn (no line per request); `trivial` is Fastify with
 * the same body limit answering one fixed prediction per row after parsing the body: the HTTP and JSON
 * cost without the prediction work. Both print `LISTENING <url>` once up; on SIGTERM they close
 * (in-flight requests finish) and report the process's CPU seconds and peak RSS.
 */
import path from 'node:path';
import Fastify from 'fastify';
import pino from 'pino';
import { ArtifactStore } from '../src/data/artifact-store';
import { openDuckDb } from '../src/data/duckdb';
import { openOnlineStore } from '../src/features/online-store-factory';
import { createLogger } from '../src/logger';
import { BODY_LIMIT_BYTES } from '../src/serving/app';
import { startServing } from '../src/serving/server';
import { openMetadataStore } from '../src/store/database';
import { runAsChild } from './child';
import { cpuSecondsSince, peakRssBytes } from './process-stats';

export const LISTENING_PREFIX = 'LISTENING ';

export type ServerTask = { kind: 'predict'; dataDir: string } | { kind: 'trivial' };

export type ServerResult = Awaited<ReturnType<typeof main>>;

/** Says where it listens, waits for SIGTERM, then closes (in-flight requests finish). */
async function serve(url: string, close: () => Promise<unknown>): Promise<void> {
  process.stdout.write(`${LISTENING_PREFIX}${url}\n`);
  await new Promise((resolve) => process.once('SIGTERM', resolve));
  await close();
}

async function main(task: ServerTask) {
  if (task.kind === 'trivial') {
    const app = Fastify({ bodyLimit: BODY_LIMIT_BYTES });
    // One fixed answer per row sent, so the load generator counts the answer as complete.
    app.post('/predict', async (request) => {
      const body = request.body as { requestId?: string; rows?: unknown[] };
      return { requestId: body.requestId ?? 'trivial', predictions: (body.rows ?? []).map(() => ({ score: 0.5 })) };
    });
    await serve(await app.listen({ host: '127.0.0.1', port: 0 }), () => app.close());
  } else {
    const logger = createLogger('warn', pino.destination({ dest: 2, sync: true }));
    const store = await openMetadataStore(`sqlite:${path.join(task.dataDir, 'metadata.sqlite')}`);
    const duck = await openDuckDb({ tempDirectory: path.join(task.dataDir, 'duckdb-tmp') });
    const online = openOnlineStore(undefined, store.db);
    try {
      const artifacts = ArtifactStore.local(task.dataDir);
      const server = await startServing({ logger, store, duck, online, artifacts }, { host: '127.0.0.1', port: 0 });
      await serve(server.url, () => server.close());
    } finally {
      await online.close();
      await store.close();
      duck.closeSync();
    }
  }
  return { cpuSeconds: cpuSecondsSince(), peakRssBytes: peakRssBytes() };
}

if (require.main === module) runAsChild<ServerTask>(main);
