/**
 * The one way a benchmark runs work in a process of its own, so that process's peak RSS and CPU time are
 * the work's alone: a bench script (`node --import tsx bench/<script> '<task JSON>'`) whose last line
 * `runAsChild` prints the result on, after RESULT_PREFIX. `runChild` waits for the result; `startChild`
 * also serves a child that first says where it listens and reports once stopped (the serving benchmark's servers).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { BenchContext } from './report';

/** What a child prints, on one line, as its result. */
export const RESULT_PREFIX = 'BENCH_RESULT ';

/**
 * The environment of a child that takes its configuration from its task alone (a server's address, a
 * data directory): a setting in the benchmark's own environment must not reach it.
 */
export const bareEnv = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  TMPDIR: process.env.TMPDIR,
});

export interface StartedChild<R> {
  pid: number;
  /** The rest of the first whole stdout line that starts with `prefix`; the child is killed if none comes in time. */
  line(prefix: string, timeoutMs: number): Promise<string>;
  /** The result line's JSON once the child exits; a non-zero exit or no result line fails with its stderr. */
  result: Promise<R>;
  /** SIGTERM, then the result. */
  stop(): Promise<R>;
  kill(): void;
}

/** Starts `bench/<script>` with `task`; the child is killed if the benchmark exits first. */
export function startChild<R>(
  ctx: BenchContext,
  script: string,
  task: { kind: string },
  env: NodeJS.ProcessEnv = process.env,
): StartedChild<R> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ctx.repoRoot, 'bench', script), JSON.stringify(task)],
    { cwd: ctx.repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const name = `${script} (${task.kind})`;
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const printed = (prefix: string, lines: string[]) => lines.find((l) => l.startsWith(prefix))?.slice(prefix.length);
  const result = new Promise<R>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      process.removeListener('exit', kill);
      const line = printed(RESULT_PREFIX, stdout.split('\n'));
      if (code === 0 && line !== undefined) resolve(JSON.parse(line) as R);
      else reject(new Error(`${name} failed: ${signal ?? `exit ${code}`}\n${stderr.trim().slice(-4000)}`));
    });
  });
  // Whoever awaits the result sees its failure; a child nobody awaits must not crash the benchmark.
  result.catch(() => {});
  return {
    pid: child.pid!,
    result,
    kill,
    stop: () => {
      child.kill('SIGTERM');
      return result;
    },
    line: (prefix, timeoutMs) =>
      new Promise((resolve, reject) => {
        const settle = (then: () => void) => {
          clearTimeout(timer);
          child.stdout.off('data', look);
          then();
        };
        const timer = setTimeout(() => {
          kill();
          settle(() => reject(new Error(`${name} printed no ${prefix.trim()} line within ${timeoutMs} ms\n${stderr}`)));
        }, timeoutMs);
        const look = () => {
          const line = printed(prefix, stdout.split('\n').slice(0, -1));
          if (line !== undefined) settle(() => resolve(line.trim()));
        };
        child.stdout.on('data', look);
        result.then(
          () => settle(() => reject(new Error(`${name} exited before printing ${prefix.trim()}`))),
          (error: unknown) => settle(() => reject(error)),
        );
        look();
      }),
  };
}

/** Runs `bench/<script>` with `task` to its end and returns its result; killed after `timeoutMs`. */
export async function runChild<R>(
  ctx: BenchContext,
  script: string,
  task: { kind: string },
  timeoutMs: number,
  env?: NodeJS.ProcessEnv,
): Promise<R> {
  const child = startChild<R>(ctx, script, task, env);
  const timer = setTimeout(child.kill, timeoutMs);
  try {
    return await child.result;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The child side: parses the task JSON from argv, runs it, prints the result line, and exits (0, or 1
 * with the stack on stderr) so no open handle keeps the process alive.
 */
export function runAsChild<T extends { kind: string }>(run: (task: T) => Promise<unknown>): void {
  const arg = process.argv[2];
  const work = arg
    ? run(JSON.parse(arg) as T)
    : Promise.reject(new Error(`usage: ${path.basename(process.argv[1] ?? 'bench script')} <task JSON>`));
  work.then(
    (result) => {
      // Exit once the line is written: a pipe is written asynchronously, and exiting at once cut a long result short.
      process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`, () => process.exit(0));
    },
    (error) => {
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      process.stderr.write(`${text}\n`, () => process.exit(1));
    },
  );
}
