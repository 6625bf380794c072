import fs from 'node:fs';
import path from 'node:path';

/**
 * Workflow ids are meaningful on purpose (`features/flight_delay@1/2001-01-12`, `ingest/flights/train`),
 * so two test files running at once against one server would collide on them. Each test file process
 * therefore claims a namespace of its own from a small pool the test server creates at start, and gives
 * it back when it exits. The pool is larger than the runner's concurrency.
 */
export const TEST_NAMESPACES = Array.from({ length: 6 }, (_, i) => `test-${i}`);

let claimed: string | undefined;

export function claimTestNamespace(): string {
  if (claimed) return claimed;
  const root = process.env.MLPIPE_TEST_TMP;
  if (!root) throw new Error('test namespaces are handed out by `npm test` (MLPIPE_TEST_TMP is not set)');
  const claims = path.join(root, 'namespace-claims');
  fs.mkdirSync(claims, { recursive: true });
  for (const namespace of TEST_NAMESPACES) {
    const claim = path.join(claims, namespace);
    try {
      fs.mkdirSync(claim); // atomic: exactly one process succeeds
    } catch {
      continue;
    }
    process.on('exit', () => fs.rmSync(claim, { recursive: true, force: true }));
    claimed = namespace;
    // Child processes (workers, the CLI) inherit it with the rest of the environment.
    process.env.TEMPORAL_NAMESPACE = namespace;
    return namespace;
  }
  throw new Error(
    `all ${TEST_NAMESPACES.length} test namespaces are taken: raise the pool size above the test concurrency`,
  );
}
