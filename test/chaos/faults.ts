import type { Prng } from './prng';

export type Phase = 'ingestion' | 'backfill' | 'training';
export const PHASES: readonly Phase[] = ['ingestion', 'backfill', 'training'];

/** Training's progress once the model file exists: a fault planned here lands in the steps after Training. */
export const TRAINED = 1_000;

/**
 * One planned fault: when the phase's observed progress (persisted chunks, published partitions,
 * checkpointed training iterations) reaches `at`, wait `delayMs` more, then inject it.
 */
export interface Fault {
  phase: Phase;
  kind: 'kill' | 'server-restart';
  at: number;
  delayMs: number;
}

export interface InjectedFault extends Fault {
  /** False when the phase finished before the fault's moment came. */
  injected: boolean;
  progressAtInjection?: number;
}

export interface PlanOptions {
  /** Worker SIGKILLs per phase. */
  kills: Record<Phase, number>;
  /** The phase of the one server restart (default: the PRNG picks). */
  serverRestartPhase?: Phase;
  /** Upper bound of the extra random wait after the progress mark (0: kill right on it). */
  maxDelayMs: number;
}

/** What the undisturbed run measured: how much progress each phase has to show. */
export interface PhaseSizes {
  chunks: number;
  partitions: number;
  iterations: number;
}

/**
 * The seeded plan: kill marks spread over each phase's progress (never on its last step, so the
 * phase is still running when the mark is seen), and one server restart.
 */
export function planFaults(prng: Prng, sizes: PhaseSizes, options: PlanOptions): Fault[] {
  const delay = () => (options.maxDelayMs > 0 ? prng.int(0, options.maxDelayMs) : 0);
  const ranges: Record<Phase, [number, number]> = {
    ingestion: [1, Math.max(1, sizes.chunks - 2)],
    backfill: [1, Math.max(1, sizes.partitions - 2)],
    // iterations 1..n-1, then once the model exists (Evaluating .. Registering .. SkewCheck).
    training: [1, Math.max(1, Math.min(sizes.iterations - 1, 6))],
  };
  const faults: Fault[] = [];
  for (const phase of PHASES) {
    const [min, max] = ranges[phase];
    let marks = prng.distinct(options.kills[phase], min, max);
    if (phase === 'training' && options.kills.training > 1)
      marks = [...marks.slice(0, options.kills.training - 1), TRAINED];
    for (const at of marks) faults.push({ phase, kind: 'kill', at, delayMs: delay() });
  }
  const restartPhase = options.serverRestartPhase ?? prng.pick(PHASES);
  const [min, max] = ranges[restartPhase];
  faults.push({ phase: restartPhase, kind: 'server-restart', at: prng.int(min, max), delayMs: delay() });
  return faults;
}

export interface FaultActions {
  kill(): Promise<void>;
  restartServer(): Promise<void>;
  log(line: string): void;
}

/**
 * Injects a phase's faults in order of their marks while the phase runs; stops when `finished()`
 * says the phase is past the point where its faults mean anything.
 */
export async function injectPhaseFaults(
  faults: Fault[],
  progress: () => Promise<number> | number,
  finished: () => boolean,
  actions: FaultActions,
): Promise<InjectedFault[]> {
  const done: InjectedFault[] = [];
  const ordered = [...faults].sort((a, b) => a.at - b.at || (a.kind === 'kill' ? -1 : 1));
  const read = async () => {
    try {
      return await progress();
    } catch {
      return -1;
    }
  };
  // A fault waits for progress past the previous one's too: a kill then lands on a worker that is
  // working again (after its restart and the heartbeat timeout), not on one still starting up.
  let floor = 0;
  for (const fault of ordered) {
    const mark = Math.max(fault.at, floor);
    let seen = await read();
    while (seen < mark && !finished()) {
      await new Promise((r) => setTimeout(r, 20));
      seen = await read();
    }
    if (finished()) {
      actions.log(`${fault.phase}: ${fault.kind} at ${fault.at} not injected (the phase finished first)`);
      done.push({ ...fault, injected: false });
      continue;
    }
    if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (finished()) {
      done.push({ ...fault, injected: false });
      continue;
    }
    const progressAtInjection = await read();
    actions.log(`${fault.phase}: ${fault.kind} (mark ${fault.at}, progress ${progressAtInjection})`);
    if (fault.kind === 'kill') await actions.kill();
    else await actions.restartServer();
    done.push({ ...fault, injected: true, progressAtInjection });
    floor = Math.max(mark, progressAtInjection) + 1;
  }
  return done;
}
