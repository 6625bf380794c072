/**
 * The benchmark harness's shared types and the results writer. Every benchmark module
 * (`bench/*.bench.ts`) exports a `Benchmark`; `bench/run.ts` runs them all and hands their results
 * to `writeResults`, which knows nothing about any one benchmark: a module adds rows by returning
 * more figures.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

/** An aim a figure is judged against: `value <= limit` or `value >= limit`, on the figure or its ratio. */
export interface Aim {
  /** What is compared to the limit: the figure's value, or its ratio to the baseline. */
  on: 'value' | 'ratio';
  op: '<=' | '>=';
  limit: number;
  /** How the aim reads in the table, e.g. "<= 2x bare". */
  text: string;
}

export type Verdict = 'pass' | 'fail' | 'info';

export interface Figure {
  /** Short name shown in the table, e.g. "3M rows: throughput". */
  name: string;
  /** The reported value: the median of `samples` when there are samples. */
  value: number;
  unit: string;
  /** The same figure for the baseline (median of `baselineSamples`), if the figure has one. */
  baseline?: number;
  /**
   * value / baseline, or for throughput figures the cost ratio the aim is about. Set explicitly by
   * the benchmark (a benchmark knows which way round its ratio reads); see `ratioNote`.
   */
  ratio?: number;
  /** How the ratio reads, e.g. "subject time / bare time". */
  ratioNote?: string;
  aim?: Aim;
  /** Filled in by `judge` from the aim; "info" when there is none. */
  verdict?: Verdict;
  /** Every measurement in the order taken (interleaved with the baseline's). */
  samples?: number[];
  baselineSamples?: number[];
  /** Per-sample ratios, when the ratio is a median of paired ratios. */
  ratioSamples?: number[];
  note?: string;
  /** One of the section's few figures that the report's summary lists. */
  headline?: boolean;
}

/** A free-form table a benchmark adds to the report (a profile, a per-chunk series, ...). */
export interface DetailTable {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  note?: string;
}

export interface BenchmarkResult {
  name: string;
  description: string;
  /** Wall time the benchmark took, seconds. */
  seconds: number;
  figures: Figure[];
  details?: DetailTable[];
  /** Anything else worth keeping in the JSON (raw samples, settings). */
  data?: Record<string, unknown>;
  /**
   * Set on a section kept from an earlier run when a filtered run re-ran other sections: the machine,
   * date and commit it was measured on (the file's header describes the latest run).
   */
  ranOn?: MachineInfo;
}

export interface BenchContext {
  repoRoot: string;
  /** A private scratch directory under os.tmpdir(), removed after the benchmark. */
  tmpDir: string;
  /** Repetitions of each measured scenario (baseline and subject alternate). */
  reps: number;
  log(message: string): void;
}

export interface Benchmark {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<BenchmarkResult>;
}

export interface MachineInfo {
  date: string;
  hostname: string;
  platform: string;
  arch: string;
  cpus: number;
  cpuModel: string;
  totalMemoryBytes: number;
  node: string;
  gitCommit?: string;
  gitDirty?: boolean;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The `q` quantile of `values`, by nearest rank. */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

export const pct = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)}%`;
export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/**
 * A figure's samples against the baseline sample taken with each (sample i right after baseline i, so
 * their ratio cancels most drift of a shared machine): both medians and the median of the ratios.
 */
export function paired(values: number[], baselines: number[]) {
  const ratios = values.map((v, i) => v / baselines[i]!);
  return {
    value: median(values),
    samples: values,
    baseline: median(baselines),
    baselineSamples: baselines,
    ratio: median(ratios),
    ratioSamples: ratios,
  };
}

/** Sets each figure's verdict from its aim. */
export function judge(figure: Figure): Figure {
  if (!figure.aim) return { ...figure, verdict: 'info' };
  const subject = figure.aim.on === 'ratio' ? figure.ratio : figure.value;
  if (subject === undefined || !Number.isFinite(subject)) return { ...figure, verdict: 'fail' };
  const ok = figure.aim.op === '<=' ? subject <= figure.aim.limit : subject >= figure.aim.limit;
  return { ...figure, verdict: ok ? 'pass' : 'fail' };
}

export function machineInfo(repoRoot: string): MachineInfo {
  const cpus = os.cpus();
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return undefined;
    }
  };
  const commit = git(['rev-parse', 'HEAD']);
  const status = commit === undefined ? undefined : git(['status', '--porcelain']);
  return {
    date: new Date().toISOString(),
    hostname: os.hostname(),
    platform: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemoryBytes: os.totalmem(),
    node: process.version,
    gitCommit: commit,
    gitDirty: status === undefined ? undefined : status.length > 0,
  };
}

/** Formats a number for the table: units it knows get their natural scale, others 3 significant digits. */
export function formatValue(value: number | undefined, unit: string): string {
  if (value === undefined || !Number.isFinite(value)) return '';
  switch (unit) {
    case 'rows/s':
      return `${formatCount(value)} rows/s`;
    case 'bytes':
      return formatBytes(value);
    case 's':
      return `${value.toFixed(value < 10 ? 2 : 1)} s`;
    case 'x':
      return `${value.toFixed(2)}x`;
    case 'rows':
      return `${formatCount(value)} rows`;
    default:
      return `${Number(value.toPrecision(3))}${unit ? ` ${unit}` : ''}`;
  }
}

function formatCount(n: number): string {
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (Math.abs(n) >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(0)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(0)} KiB`;
  return `${n} B`;
}

const escapeCell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

const verdictText = (f: Figure) => (f.verdict === 'pass' ? 'pass' : f.verdict === 'fail' ? '**FAIL**' : '-');
const ratioText = (f: Figure) => (f.ratio === undefined ? '' : `${f.ratio.toFixed(2)}x`);

const FIGURE_COLUMNS = ['figure', 'value', 'baseline', 'ratio', 'aim', 'verdict'];

function figureRow(f: Figure): string[] {
  return [
    f.name,
    formatValue(f.value, f.unit),
    formatValue(f.baseline, f.unit),
    ratioText(f),
    f.aim?.text ?? '',
    verdictText(f),
  ];
}

/**
 * Every section's headline figures in one table. Sections kept from a run that predates the flag carry
 * none and add no rows; with no headline figure at all there is no summary.
 */
function summary(results: BenchmarkResult[]): string[] {
  const rows = results.flatMap((r) => r.figures.filter((f) => f.headline).map((f) => [r.name, ...figureRow(f)]));
  if (rows.length === 0) return [];
  return [
    '## Summary',
    '',
    markdownTable(['benchmark', ...FIGURE_COLUMNS], rows),
    '',
    'Each section below says what its baseline and ratio are.',
    '',
  ];
}

function markdownTable(columns: string[], rows: (string | number)[][]): string {
  const lines = [`| ${columns.map(escapeCell).join(' | ')} |`, `|${columns.map(() => ' --- ').join('|')}|`];
  for (const row of rows) lines.push(`| ${row.map((c) => escapeCell(String(c))).join(' | ')} |`);
  return lines.join('\n');
}

export function renderMarkdown(machine: MachineInfo, results: BenchmarkResult[]): string {
  const out: string[] = ['# Benchmark results', ''];
  out.push(
    `${machine.date} · ${machine.cpus} CPUs (${machine.cpuModel}) · ${formatBytes(machine.totalMemoryBytes)} RAM · Node ${machine.node} · ${machine.platform}` +
      (machine.gitCommit
        ? ` · commit ${machine.gitCommit.slice(0, 12)}${machine.gitDirty ? ' (uncommitted changes)' : ''}`
        : ''),
    '',
    'Values are medians of the samples (all samples are in latest.json). The machine is shared: compare ratios, not absolute times.',
    '',
    ...summary(results),
  );
  for (const r of results) {
    out.push(`## ${r.name}`, '');
    if (r.ranOn)
      out.push(
        `*Not re-run by the latest (filtered) run: measured ${r.ranOn.date}${r.ranOn.gitCommit ? ` at commit ${r.ranOn.gitCommit.slice(0, 12)}${r.ranOn.gitDirty ? ' (uncommitted changes)' : ''}` : ''}.*`,
        '',
      );
    out.push(r.description, '');
    out.push(markdownTable(FIGURE_COLUMNS, r.figures.map(figureRow)), '');
    const notes = r.figures.filter((f) => f.note || f.ratioNote);
    if (notes.length) {
      for (const f of notes)
        out.push(
          `- *${f.name}*: ${[f.ratioNote ? `ratio = ${f.ratioNote}` : '', f.note ?? ''].filter(Boolean).join('; ')}`,
        );
      out.push('');
    }
    for (const d of r.details ?? []) {
      out.push(`### ${d.title}`, '', markdownTable(d.columns, d.rows), '');
      if (d.note) out.push(d.note, '');
    }
    out.push(`(${r.seconds.toFixed(0)} s)`, '');
  }
  return out.join('\n');
}

/** A plain-text table for the terminal. */
export function renderText(results: BenchmarkResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    const rows = [FIGURE_COLUMNS, ...r.figures.map((f) => figureRow(f).map((c) => c.replace(/\*\*/g, '')))];
    const widths = FIGURE_COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
    lines.push('', `${r.name}`);
    for (const row of rows) lines.push(`  ${row.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd());
  }
  return lines.join('\n');
}

function writeAtomic(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

/** Writes `latest.json` (everything) and `latest.md` (the tables) under `dir`. */
export function writeResults(
  dir: string,
  machine: MachineInfo,
  results: BenchmarkResult[],
): { json: string; markdown: string } {
  const json = path.join(dir, 'latest.json');
  const markdown = path.join(dir, 'latest.md');
  writeAtomic(json, `${JSON.stringify({ machine, benchmarks: results }, null, 2)}\n`);
  writeAtomic(markdown, renderMarkdown(machine, results));
  return { json, markdown };
}
