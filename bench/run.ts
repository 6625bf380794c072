/**
 * `npm run bench`: runs every benchmark module (`bench/*.bench.ts`, each exporting `benchmark`),
 * then writes bench/results/latest.json (every figure and sample, with machine info) and
 * bench/results/latest.md (a table per benchmark), and prints the tables.
 *
 *   npm run bench                      all benchmarks, 3 repetitions of each scenario
 *   npm run bench -- ingestion         only benchmarks whose name contains "ingestion"
 *   npm run bench -- --reps=5          more repetitions
 *   npm run bench -- --strict          exit 1 when a figure misses its aim
 *   npm run bench -- --results=DIR     write latest.json/latest.md to DIR instead (a trial run)
 *
 * A filtered run replaces its own sections of latest.json/latest.md and keeps the others, each marked
 * with the date and commit it was measured on. Failing an aim is reported, not an error, unless
 * --strict; a benchmark that crashes is an error.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  judge,
  machineInfo,
  renderText,
  writeResults,
  type Benchmark,
  type BenchmarkResult,
  type MachineInfo,
} from './report';

const BENCH_DIR = __dirname;
const REPO_ROOT = path.resolve(BENCH_DIR, '..');

interface Options {
  filters: string[];
  reps: number;
  strict: boolean;
  resultsDir: string;
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    filters: [],
    reps: Number(process.env.BENCH_REPS ?? 3),
    strict: false,
    resultsDir: path.join(BENCH_DIR, 'results'),
  };
  for (const arg of argv) {
    if (arg.startsWith('--reps=')) options.reps = Number(arg.slice('--reps='.length));
    else if (arg.startsWith('--results=')) options.resultsDir = path.resolve(arg.slice('--results='.length));
    else if (arg === '--strict') options.strict = true;
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else options.filters.push(arg);
  }
  if (!Number.isInteger(options.reps) || options.reps < 1) throw new Error('--reps must be a positive integer');
  return options;
}

function discover(): string[] {
  return fs
    .readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith('.bench.ts'))
    .sort()
    .map((f) => path.join(BENCH_DIR, f));
}

async function load(file: string): Promise<Benchmark> {
  const mod = (await import(file)) as { benchmark?: Benchmark };
  if (!mod.benchmark || typeof mod.benchmark.run !== 'function')
    throw new Error(`${path.basename(file)} does not export a \`benchmark\``);
  return mod.benchmark;
}

/**
 * The sections of the current latest.json that this run does not re-run, stamped with the run they
 * come from; sections of benchmarks that no longer exist are dropped.
 */
function keptSections(resultsDir: string, benchmarks: Benchmark[], rerun: Benchmark[]): BenchmarkResult[] {
  const file = path.join(resultsDir, 'latest.json');
  if (!fs.existsSync(file)) return [];
  const previous = JSON.parse(fs.readFileSync(file, 'utf8')) as { machine: MachineInfo; benchmarks: BenchmarkResult[] };
  return previous.benchmarks
    .filter((r) => benchmarks.some((b) => b.name === r.name) && !rerun.some((b) => b.name === r.name))
    .map((r) => ({ ...r, ranOn: r.ranOn ?? previous.machine }));
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const benchmarks = await Promise.all(discover().map(load));
  const selected = options.filters.length
    ? benchmarks.filter((b) => options.filters.some((f) => b.name.includes(f)))
    : benchmarks;
  if (selected.length === 0)
    throw new Error(
      `no benchmark matches ${options.filters.join(', ')} (have: ${benchmarks.map((b) => b.name).join(', ')})`,
    );

  const machine = machineInfo(REPO_ROOT);
  console.log(
    `bench: ${selected.map((b) => b.name).join(', ')} · ${machine.cpus} CPUs · Node ${machine.node} · ${options.reps} repetitions`,
  );
  const results: BenchmarkResult[] = [];
  let crashed = false;
  const tmpDirs = new Set<string>();
  const cleanup = () => tmpDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });

  for (const b of selected) {
    const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), `mlpipe-bench-${b.name}-`));
    tmpDirs.add(tmpDir);
    const started = Date.now();
    try {
      const result = await b.run({
        repoRoot: REPO_ROOT,
        tmpDir,
        reps: options.reps,
        log: (m) => console.log(`[${b.name}] ${m}`),
      });
      results.push({ ...result, figures: result.figures.map(judge) });
    } catch (error) {
      crashed = true;
      console.error(`[${b.name}] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      results.push({
        name: b.name,
        description: `FAILED: ${error instanceof Error ? error.message : String(error)}`,
        seconds: (Date.now() - started) / 1000,
        figures: [],
      });
    } finally {
      fs.rmSync(tmpDir, { recursive: true, force: true });
      tmpDirs.delete(tmpDir);
    }
  }

  const sections = [...results, ...keptSections(options.resultsDir, benchmarks, selected)];
  const inOrder = benchmarks.flatMap((b) => sections.filter((r) => r.name === b.name));
  const written = writeResults(options.resultsDir, machine, inOrder);
  console.log(renderText(results));
  console.log(`\nwrote ${path.relative(REPO_ROOT, written.json)} and ${path.relative(REPO_ROOT, written.markdown)}`);
  const missed = results.flatMap((r) =>
    r.figures.filter((f) => f.verdict === 'fail').map((f) => `${r.name}: ${f.name}`),
  );
  if (missed.length) console.log(`missed aims:\n${missed.map((m) => `  - ${m}`).join('\n')}`);
  if (crashed) return 1;
  return options.strict && missed.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`npm run bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
