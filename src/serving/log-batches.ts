import type { PredictionLogRow, PredictionLogRepository } from '../store/prediction-log';
import { Batcher } from './batcher';

/** Requests per transaction: at most 100 rows each, so a transaction stays a few statements. */
const MAX_REQUESTS_PER_TRANSACTION = 64;

/**
 * The prediction log rows of concurrent requests, written in one transaction: a transaction's fixed
 * cost (begin, commit, the store's round trips) was a good part of a one-row request's time. Each
 * request is answered only once the transaction holding its rows has committed; if it fails, none of
 * its requests' rows are written and each of them fails. It is not run again: a commit whose
 * acknowledgement was lost may have happened, and a second run would log those predictions twice.
 */
export class PredictionLogBatches {
  private readonly batcher: Batcher<PredictionLogRow[], void>;

  constructor(log: PredictionLogRepository) {
    this.batcher = new Batcher(
      async (requests) => {
        await log.write(requests.flat());
        return requests.map(() => undefined);
      },
      { maxItems: MAX_REQUESTS_PER_TRANSACTION, retryAlone: false },
    );
  }

  /** Resolves once `rows` are committed, with the rows of the requests that came with them. */
  write(rows: PredictionLogRow[]): Promise<void> {
    return this.batcher.submit(rows);
  }
}
