/**
 * `npm run test:load [-- --runs N] [-- <part of a file name> ...]`: the whole suite (or a subset) while
 * every CPU is kept busy by a burner process, N times in a row, stopping at the first failure. Races
 * that an idle machine hides (a run assumed still going, a listing assumed already indexed, a wait on
 * time instead of a condition) show here. The burners are bounded twice: each exits by itself after
 * BURN_LIMIT_MS, and they are killed when the runs end or this process is interrupted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

const BURN_LIMIT_MS = 3 * 60 * 60_000;
const REPO_ROOT = path.resolve(__dirname, '..');

interface Options {
  runs: number;
  filter: string[];
}

function parseArgs(argv: string[]): Options {
  const options: Options = { runs: 1, filter: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') {
      const runs = Number(argv[++i]);
      if (!Number.isInteger(runs) || runs < 1 || runs > 20)
        throw new Error(`--runs: expected a whole number from 1 to 20, got ${argv[i]}`);
      options.runs = runs;
    } else {
      options.filter.push(argv[i]!);
    }
  }
  return options;
}

/** A process that spins until its deadline: one CPU's worth of load the scheduler cannot skip. */
function startBurner(): ChildProcess {
  const spin = `const end = Date.now() + ${BURN_LIMIT_MS}; let x = 0; while (Date.now() < end) x = (x * 31 + 7) % 1000003;`;
  return spawn(process.execPath, ['-e', spin], { stdio: 'ignore' });
}

function runSuite(filter: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['test', '--', ...filter], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const cpus = os.availableParallelism();
  const burners = Array.from({ length: cpus }, startBurner);
  const stopBurners = () => burners.forEach((b) => b.kill('SIGKILL'));
  process.once('exit', stopBurners);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  console.error(`[load] ${cpus} CPU burners started; ${options.runs} run(s) of npm test ${options.filter.join(' ')}`);

  const walls: string[] = [];
  try {
    for (let run = 1; run <= options.runs; run++) {
      const started = Date.now();
      const code = await runSuite(options.filter);
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      walls.push(`${seconds} s`);
      console.error(
        `[load] run ${run} of ${options.runs}: ${code === 0 ? 'passed' : `FAILED (exit ${code})`} in ${seconds} s under ${cpus} burners`,
      );
      if (code !== 0) return code;
    }
    console.error(`[load] ${options.runs} consecutive green run(s) under load: ${walls.join(', ')}`);
    return 0;
  } finally {
    stopBurners();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`test:load: ${(error as Error).message}`);
    process.exit(2);
  },
);
