import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import readline from 'node:readline';
import { parseProgressLine, TRAINER_EXIT_NON_RETRYABLE, type ProgressLine } from './trainer-contract';

/** Lines of the trainer's stderr kept for the failure message. */
const STDERR_TAIL_LINES = 20;
/** After SIGTERM on cancellation, the trainer has this long to exit before SIGKILL. */
const TERM_GRACE_MS = 5_000;

export interface TrainerProcessOptions {
  command: readonly string[];
  /** Appended to the command: the path of the trainer's input file. */
  inputFile: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Holds the process group id while the trainer runs, so a retry can stop one a dead worker left behind. */
  pidFile: string;
  progressTimeoutMs: number;
  signal: AbortSignal;
  onProgress(progress: ProgressLine): void;
}

/** How a trainer run went wrong; `retryable` only for a plain non-zero exit. */
export class TrainerProcessError extends Error {
  constructor(
    message: string,
    readonly reason: 'exit' | 'exit-non-retryable' | 'hung' | 'malformed-progress' | 'spawn',
    readonly stderrTail: string[],
  ) {
    super(message);
  }
}

/**
 * Runs a trainer command as the leader of its own process group and waits for it: progress lines
 * from stdout go to `onProgress`; a malformed line, silence beyond the progress timeout, or
 * cancellation stops the whole group (a trainer's own workers too). Resolves on exit 0.
 */
export async function runTrainerProcess(o: TrainerProcessOptions): Promise<void> {
  await stopLeftover(o.pidFile);
  const [file, ...args] = o.command;
  const child = spawn(file!, [...args, o.inputFile], {
    cwd: o.cwd,
    env: o.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderrTail: string[] = [];
  let stopped: TrainerProcessError | undefined;
  const stop = (error: TrainerProcessError | undefined, signal: NodeJS.Signals) => {
    stopped ??= error;
    killGroup(child.pid, signal);
  };

  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }>((resolve) => {
    child.once('error', (spawnError) => resolve({ code: null, signal: null, spawnError }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  if (child.pid !== undefined) await fs.writeFile(o.pidFile, String(child.pid));

  let progressTimer: NodeJS.Timeout | undefined;
  const expectProgress = () => {
    clearTimeout(progressTimer);
    progressTimer = setTimeout(
      () =>
        stop(
          new TrainerProcessError(
            `the trainer printed no progress line for ${o.progressTimeoutMs / 1000} s: stopped as hung`,
            'hung',
            stderrTail,
          ),
          'SIGKILL',
        ),
      o.progressTimeoutMs,
    );
  };
  expectProgress();
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    if (stopped || line.trim() === '') return;
    const parsed = parseProgressLine(line);
    if (!parsed.ok) {
      const shown = line.length > 200 ? `${line.slice(0, 200)}...` : line;
      stop(
        new TrainerProcessError(
          `malformed progress line ${JSON.stringify(shown)}: ${parsed.why}`,
          'malformed-progress',
          stderrTail,
        ),
        'SIGKILL',
      );
      return;
    }
    expectProgress();
    o.onProgress(parsed.progress);
  });
  readline.createInterface({ input: child.stderr! }).on('line', (line) => {
    stderrTail.push(line);
    if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
  });
  const onAbort = () => {
    stop(undefined, 'SIGTERM');
    setTimeout(() => killGroup(child.pid, 'SIGKILL'), TERM_GRACE_MS).unref();
  };
  o.signal.addEventListener('abort', onAbort, { once: true });

  const { code, signal, spawnError } = await closed;
  clearTimeout(progressTimer);
  o.signal.removeEventListener('abort', onAbort);
  killGroup(child.pid, 'SIGKILL'); // anything the trainer started and left behind
  await fs.rm(o.pidFile, { force: true });

  if (o.signal.aborted) throw o.signal.reason ?? new Error('cancelled');
  if (stopped) throw stopped;
  if (spawnError)
    throw new TrainerProcessError(`cannot run ${o.command.join(' ')}: ${spawnError.message}`, 'spawn', stderrTail);
  if (code === 0) return;
  const how = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
  const tail = stderrTail.length
    ? `; its last stderr lines:\n${stderrTail.join('\n')}`
    : '; it wrote nothing to stderr';
  throw new TrainerProcessError(
    `the trainer ${how}${tail}`,
    code === TRAINER_EXIT_NON_RETRYABLE ? 'exit-non-retryable' : 'exit',
    stderrTail,
  );
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

/** A trainer a dead worker left running on this run's checkpoints is stopped before a new one starts. */
async function stopLeftover(pidFile: string): Promise<void> {
  const pid = Number(await fs.readFile(pidFile, 'utf8').catch(() => ''));
  if (!Number.isInteger(pid) || pid <= 1) return;
  killGroup(pid, 'SIGKILL');
  for (let waited = 0; waited < 5_000 && groupAlive(pid); waited += 50)
    await new Promise((resolve) => setTimeout(resolve, 50));
  await fs.rm(pidFile, { force: true });
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}
