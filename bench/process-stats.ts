/**
 * What a benchmark reads about a process: its peak RSS, its CPU time and its threads'. Loads nothing but
 * Node's own modules, so a child measuring a small footprint (bench/drift-worker.ts) can use it.
 */
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Resets the kernel's peak-RSS mark (VmHWM, and with it getrusage's maxrss) to the current RSS. */
export function resetPeakRss(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Peak RSS of this process (since the start, or since `resetPeakRss`), bytes. */
export const peakRssBytes = () => process.resourceUsage().maxRSS * 1024;

/** CPU seconds (user + system, every thread) this process has used since `since`, or since it started. */
export function cpuSecondsSince(since?: NodeJS.CpuUsage): number {
  const cpu = process.cpuUsage(since);
  return (cpu.user + cpu.system) / 1e6;
}

/** Peak RSS and CPU seconds of a measured stretch of this process. */
export interface Resources {
  /** Peak RSS from the mark's reset to the end, bytes. */
  maxRssBytes: number;
  /** Whether the peak-RSS reset worked; if not, maxRssBytes is the whole process's peak. */
  peakReset: boolean;
  /** RSS just before the stretch (an idle worker, or the open dependencies of direct calls). */
  rssBeforeBytes: number;
  /** CPU seconds of this process (every thread: JS, DuckDB, the Temporal core) over the stretch. */
  cpuSeconds: number;
}

/** Runs `work` with the peak-RSS mark reset first, and adds the stretch's resources to its result. */
export async function measured<T>(work: () => Promise<T>): Promise<T & Resources> {
  const rssBeforeBytes = process.memoryUsage.rss();
  const peakReset = resetPeakRss();
  const cpu0 = process.cpuUsage();
  const out = await work();
  return { ...out, cpuSeconds: cpuSecondsSince(cpu0), maxRssBytes: peakRssBytes(), peakReset, rssBeforeBytes };
}

let ticksPerSecond: number | undefined;
/** utime + stime of a /proc stat line (fields 14 and 15), seconds. */
function statCpuSeconds(stat: string): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** CPU seconds another process has used so far (Linux /proc), or undefined where that cannot be read. */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    return statCpuSeconds(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds this process's threads have used so far, summed by thread name (/proc/self/task/<tid>/comm:
 * Node's MainThread, the workflow sandbox's WorkerThread, the SDK core's tokio-runtime-w, V8's workers),
 * or {} where /proc cannot be read. Threads that ended since are missing from a later reading.
 */
export function threadCpuSeconds(): Record<string, number> {
  const byName: Record<string, number> = {};
  try {
    for (const tid of fs.readdirSync('/proc/self/task')) {
      const name = fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      byName[name] = (byName[name] ?? 0) + statCpuSeconds(fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8'));
    }
  } catch {
    // a thread that ended while being read, or no /proc: what was read stands
  }
  return byName;
}
