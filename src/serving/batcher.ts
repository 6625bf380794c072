export interface BatcherOptions {
  /** Most items one run takes; the rest wait for the next run. */
  maxItems: number;
  /**
   * When a run of several items fails, run each item alone, so one item's failure (a value DuckDB
   * refuses) is its own only. For reads only: a write that failed may still have happened (a lost
   * commit acknowledgement), and running it again could do it twice.
   */
  retryAlone: boolean;
}

interface Pending<In, Out> {
  item: In;
  resolve(out: Out): void;
  reject(error: unknown): void;
}

/**
 * Runs the items concurrent requests submit together: an item waits for the end of the event loop's
 * current turn (so the requests read from the sockets in the same turn join it) and for the run in
 * flight, if any, then runs with everything else waiting. Under load one DuckDB query or one
 * transaction then serves many requests, and its fixed cost (a round trip through the thread pool, a
 * commit) is shared; a request alone waits for nothing but the end of its turn. Each submitter gets
 * its own item's result, or the run's error.
 */
export class Batcher<In, Out> {
  private readonly queue: Pending<In, Out>[] = [];
  private running = false;
  private scheduled = false;

  constructor(
    private readonly run: (items: In[]) => Promise<Out[]>,
    private readonly options: BatcherOptions,
  ) {}

  submit(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.running = true;
    try {
      await this.settle(this.queue.splice(0, this.options.maxItems));
    } finally {
      this.running = false;
      this.schedule();
    }
  }

  private async settle(batch: Pending<In, Out>[]): Promise<void> {
    let outs: Out[];
    try {
      outs = await this.run(batch.map((p) => p.item));
      if (outs.length !== batch.length) throw new Error(`a batch of ${batch.length} items gave ${outs.length} results`);
    } catch (error) {
      if (batch.length > 1 && this.options.retryAlone) {
        for (const p of batch) await this.settle([p]);
      } else {
        for (const p of batch) p.reject(error);
      }
      return;
    }
    batch.forEach((p, i) => p.resolve(outs[i]!));
  }
}
