import { spawn } from 'node:child_process';
import path from 'node:path';

/** What a bench worker prints, on one line, as its result. */
export const RESULT_PREFIX = 'BENCH_RESULT ';

/**
 * Runs one bench worker script in a fresh Node process (so its peak RSS is its own) with a JSON task,
 * and returns the JSON it printed after RESULT_PREFIX. A non-zero exit, a missing result line or the
 * timeout fails with the worker's stderr.
 */
export function runBenchChild<R>(
  repoRoot: string,
  script: string,
  task: { kind: string },
  timeoutMs: number,
  env?: NodeJS.ProcessEnv,
): Promise<R> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(repoRoot, 'bench', script), JSON.stringify(task)],
      {
        cwd: repoRoot,
        env: env ?? process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code !== 0 || !line) {
        reject(
          new Error(`${script} (${task.kind}) failed: ${signal ?? `exit ${code}`}\n${stderr.trim().slice(-4000)}`),
        );
        return;
      }
      resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as R);
    });
  });
}

/**
 * The worker side: parses the task JSON from argv, runs it, prints the result line, and exits
 * (0, or 1 with the stack on stderr) so no open handle keeps the process alive.
 */
export function runAsBenchWorker<T extends { kind: string }>(script: string, run: (task: T) => Promise<unknown>): void {
  const arg = process.argv[2];
  const work = arg ? run(JSON.parse(arg) as T) : Promise.reject(new Error(`usage: ${script} <task JSON>`));
  work.then(
    (result) => {
      process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
      process.exit(0);
    },
    (error) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exit(1);
    },
  );
}
