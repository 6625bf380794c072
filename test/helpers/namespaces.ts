import fs from 'node:fs';
import path from 'node:path';

/**
 * Workflow ids are meaningful on purpose (`features/flight_delay@1/2001-01-12`, `ingest/flights/train`),
 * so two test files running at once against one server would collide on them. Each test file process
 * therefore claims a namespace of its own from a small pool the test server creates at start, and gives
 * it back when it exits. The pool is larger than the runner's concurrency.
 */
const POOL_SIZE = 6;
/** The run against an object store (MLPIPE_TEST_ARTIFACTS=s3) repeats test files: a pool of its own. */
const pool = (prefix: string) => Array.from({ length: POOL_SIZE }, (_, i) => `${prefix}-${i}`);
export const TEST_NAMESPACES = [...pool('test'), ...pool('test-s3')];

let claimed: string | undefined;

export function claimTestNamespace(): string {
  if (claimed) return claimed;
  const root = process.env.MLPIPE_TEST_TMP;
  if (!root) throw new Error('test namespaces are handed out by `npm test` (MLPIPE_TEST_TMP is not set)');
  const claims = path.join(root, 'namespace-claims');
  fs.mkdirSync(claims, { recursive: true });
  const mine = pool(process.env.MLPIPE_TEST_ARTIFACTS === 's3' ? 'test-s3' : 'test');
  for (const namespace of mine) {
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
    `all ${mine.length} test namespaces of the pool are taken: raise the pool size above the test concurrency`,
  );
}
