import Fastify from 'fastify';
import { sql } from 'kysely';
import { z } from 'zod';
import type { ServingDeps } from './deps';
import { HttpError } from './errors';
import { createPredictor } from './predict';
import { ServingMetrics } from './metrics';

/** A full request of 100 rows is about 10 KiB: anything near this limit is not a prediction request. */
export const BODY_LIMIT_BYTES = 256 * 1024;

/** `x-mlpipe-source: skew-check` marks the staging skew check's replay, so monitoring can leave it out. */
const SourceHeaderSchema = z.enum(['serving', 'skew-check']).default('serving');

/**
 * The prediction server: POST /predict, GET /healthz and GET /metrics (Prometheus). Errors answer `{ error: message }` with
 * their status: 400 invalid request, 404 unknown model or no version in the stage, 413 body too
 * large, 503 prediction log or database unavailable, 500 anything else (details in the log only).
 */
export function buildServingApp(deps: ServingDeps) {
  const app = Fastify({ loggerInstance: deps.logger, bodyLimit: BODY_LIMIT_BYTES });
  const predictor = createPredictor(deps);
  app.addHook('onClose', async () => predictor.close());
  const metrics = new ServingMetrics();
  // Fastify times each request itself (reply.elapsedTime); the route is the registered one, so an
  // unknown path does not make a series of its own.
  app.addHook('onResponse', async (request, reply) => {
    metrics.observe(request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
  app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4').send(metrics.render()));

  app.post('/predict', async (request) => {
    const source = SourceHeaderSchema.safeParse(request.headers['x-mlpipe-source']);
    if (!source.success) throw new HttpError(400, 'x-mlpipe-source must be serving or skew-check');
    return predictor.predict(request.body, source.data);
  });

  app.get('/healthz', async (request, reply) => {
    try {
      await sql`select 1`.execute(deps.store.db);
      return { status: 'ok', database: 'ok' };
    } catch (error) {
      request.log.error({ err: error }, 'health check: metadata store query failed');
      return reply.code(503).send({ status: 'unavailable', database: 'unavailable' });
    }
  });

  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    if (error instanceof HttpError) return reply.code(error.statusCode).send({ error: error.message });
    // Fastify's own client errors (413 body too large, 400 malformed JSON, 415) carry their status.
    if (error.statusCode !== undefined && error.statusCode < 500)
      return reply.code(error.statusCode).send({ error: error.message });
    // Unexpected: the details (an artifact that does not parse, a DuckDB error) go to the log only.
    request.log.error({ err: error, url: request.url }, 'request failed');
    return reply.code(500).send({ error: 'internal error (see the server log)' });
  });

  return app;
}
