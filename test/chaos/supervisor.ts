import type { Config } from '../../src/config';
import { spawnWorker, type WorkerProcess } from '../helpers/temporal';

/**
 * Keeps one `mlpipe worker` process running on a task queue: when it dies (killed by the chaos run,
 * or exiting on its own, e.g. while the server is down), a new one is started.
 */
export class WorkerSupervisor {
  private current?: WorkerProcess;
  private readonly all: WorkerProcess[] = [];
  private stopping = false;
  private killing = false;
  kills = 0;
  /** Process ids of workers that are gone (their identity is `<pid>@<host>`). */
  readonly deadPids = new Set<number>();
  /** Exits the chaos run did not cause (a worker giving up while the server was away, a crash). */
  unexpectedExits = 0;

  constructor(
    private readonly config: Config,
    private readonly taskQueue: string,
    private readonly env: Record<string, string>,
    private readonly log: (line: string) => void = () => {},
    /** How long a killed worker stays down: in a fleet, long enough for the other host to take its step. */
    private readonly restartDelayMs = 0,
  ) {}

  start(): void {
    const worker = spawnWorker(this.config, this.taskQueue, this.env);
    this.current = worker;
    this.all.push(worker);
    void worker.exited.then(async (code) => {
      if (worker.child.pid) this.deadPids.add(worker.child.pid);
      if (this.stopping) return;
      if (!this.killing) {
        this.unexpectedExits++;
        this.log(`worker ${worker.child.pid} exited on its own (${code}); starting another`);
        await new Promise((r) => setTimeout(r, 1_000));
        if (this.stopping) return;
      } else if (this.restartDelayMs > 0) {
        await new Promise((r) => setTimeout(r, this.restartDelayMs));
        if (this.stopping) return;
      }
      this.start();
    });
  }

  /** The running worker's process id (its Temporal identity is `<pid>@<host>`), while it runs. */
  get pid(): number | undefined {
    const child = this.current?.child;
    return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  /** SIGKILLs the running worker and waits until it is gone (its replacement follows). */
  async kill(): Promise<void> {
    const victim = this.current;
    if (!victim) return;
    this.killing = true;
    victim.child.kill('SIGKILL');
    await victim.exited;
    this.killing = false;
    this.kills++;
  }

  /** Every JSON log line of every worker process so far. */
  logs(): Record<string, unknown>[] {
    return this.all.flatMap((w) => w.logs);
  }

  get processes(): number {
    return this.all.length;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const worker = this.current;
    if (!worker) return;
    worker.child.kill('SIGTERM');
    const timer = setTimeout(() => worker.child.kill('SIGKILL'), 15_000);
    await worker.exited;
    clearTimeout(timer);
  }
}
