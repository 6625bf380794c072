import type { PreparedStatementPool } from '../data/duckdb-statement-pool';
import { Batcher } from './batcher';
import { EventRowQuery, type EventRow } from './event-features';
import type { RequestRow } from './request-schema';
import type { ServedModel } from './served-models';

/**
 * Requests in one DuckDB query: a query's fixed cost (a round trip through the thread pool, the
 * result's conversion) was most of a one-row request's time. Bounded so a batch stays a small query.
 */
const MAX_REQUESTS_PER_QUERY = 64;

/**
 * The event rows of concurrent requests for the same model, computed by one query (EventRowQuery) over
 * all their rows. An event feature is an expression over its row alone, so a row's values are the same
 * whatever rows share its query; a batch DuckDB refuses is retried request by request, so a request's
 * error is its own.
 */
export class EventRowBatches {
  private readonly byModel = new Map<ServedModel, Batcher<readonly RequestRow[], EventRow[]>>();

  constructor(private readonly statements: PreparedStatementPool) {}

  compute(served: ServedModel, rows: readonly RequestRow[]): Promise<EventRow[]> {
    let batcher = this.byModel.get(served);
    if (!batcher) {
      const query = new EventRowQuery(served);
      batcher = new Batcher(
        async (requests) => {
          const all = await query.run(this.statements, requests.flat());
          let start = 0;
          return requests.map((r) => all.slice(start, (start += r.length)));
        },
        { maxItems: MAX_REQUESTS_PER_QUERY, retryAlone: true },
      );
      this.byModel.set(served, batcher);
    }
    return batcher.submit(rows);
  }
}
