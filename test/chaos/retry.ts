import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';

/**
 * Runs a client call again while the Temporal server is away (restarting) or answers with a
 * transient error. A workflow's own failure is an answer, not an outage: it is thrown at once.
 */
export async function throughOutages<T>(what: string, call: () => Promise<T>, timeoutMs = 600_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (error instanceof WorkflowFailedError || error instanceof WorkflowUpdateFailedError) throw error;
      if (Date.now() > deadline)
        throw new Error(`${what}: still failing after ${timeoutMs} ms: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Polls `check` (errors count as "not yet") until it holds; throws after `timeoutMs`. */
export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
