import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * V8's garbage collector, as `--expose-gc` gives it, whether or not the process was started with that
 * flag. The native memory of a DuckDB result (its data chunks, the COPY statistics it returns) is freed
 * only when V8 collects the result's JS wrapper, and V8 does not know that memory exists: a loop of
 * large statements that allocates little JavaScript runs no collection, and ~1.4 MiB per ingest chunk
 * stayed resident until the end of the run (30M rows: +43 MiB). The flag is set just long enough to
 * read `gc` from a fresh context and unset again, so no context made later (a workflow sandbox) has it.
 */
const gc: (options?: { type: 'major' | 'minor' }) => void =
  (globalThis as { gc?: typeof gc }).gc ??
  (() => {
    v8.setFlagsFromString('--expose-gc');
    try {
      return vm.runInNewContext('gc') as typeof gc;
    } finally {
      v8.setFlagsFromString('--no-expose-gc');
    }
  })();

/**
 * Collects the young generation (a scavenge, about a millisecond): the wrappers of results a loop has
 * finished with die young, so their native memory is freed without a full collection's pause.
 */
export function collectYoungGarbage(): void {
  gc({ type: 'minor' });
}

/** A full collection: only live memory is left, e.g. before a benchmark reads a memory mark. */
export function collectAllGarbage(): void {
  gc({ type: 'major' });
}
