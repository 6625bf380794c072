import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Config } from '../../src/config';
import { WorkerSupervisor } from './supervisor';

const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
/** A killed host stays down this long: past the step's heartbeat timeout, so the other host takes it. */
const HOST_DOWN_MS = 10_000;
/** How long a kill waits for a live host to hold a step. */
const HOLDER_WAIT_MS = 15_000;

interface Host {
  name: string;
  supervisor: WorkerSupervisor;
}

/**
 * The chaos run's workers: one supervised `mlpipe worker`, or several hosts, each a worker process with
 * a data directory (scratch cache) of its own, sharing only what the config points at (the Temporal
 * server, the metadata database, the object store). The source sits at the same path under every host's
 * data directory, as on a shared mount. A kill hits the host that holds the running step.
 */
export class Fleet {
  private readonly hosts: Host[];
  readonly kills: string[] = [];

  constructor(
    config: Config,
    taskQueue: string,
    env: Record<string, string>,
    names: string[],
    source: string,
    private readonly log: (line: string) => void,
  ) {
    const several = names.length > 1;
    this.hosts = names.map((name) => {
      const dataDir = several ? path.join(path.dirname(config.dataDir), `chaos-${name}`) : config.dataDir;
      if (several) {
        fs.mkdirSync(path.dirname(path.join(dataDir, source)), { recursive: true });
        fs.copyFileSync(path.join(config.dataDir, source), path.join(dataDir, source));
      }
      const hostEnv = several ? { ...env, MLPIPE_DATA_DIR: dataDir } : env;
      const supervisor = new WorkerSupervisor(
        config,
        taskQueue,
        hostEnv,
        (l) => log(`[${name}] ${l}`),
        several ? HOST_DOWN_MS : 0,
      );
      return { name, supervisor };
    });
  }

  get supervisors(): WorkerSupervisor[] {
    return this.hosts.map((h) => h.supervisor);
  }

  start(): void {
    for (const h of this.hosts) h.supervisor.start();
  }

  async stop(): Promise<void> {
    for (const h of this.hosts) await h.supervisor.stop();
  }

  /**
   * SIGKILLs the host whose live worker runs a started activity (waiting up to HOLDER_WAIT_MS for one:
   * between two steps, or while a dead host's step awaits its heartbeat timeout, none does); failing
   * that, the first live host.
   */
  async killStepHolder(client: Client): Promise<void> {
    let victim = this.hosts.length > 1 ? await this.stepHolder(client) : this.hosts[0];
    for (const deadline = Date.now() + HOLDER_WAIT_MS; !victim && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 100));
      victim = await this.stepHolder(client);
    }
    victim ??= this.hosts.find((h) => h.supervisor.pid !== undefined) ?? this.hosts[0]!;
    this.log(`killing ${victim.name} (pid ${victim.supervisor.pid})`);
    this.kills.push(victim.name);
    await victim.supervisor.kill();
  }

  private async stepHolder(client: Client): Promise<Host | undefined> {
    for await (const wf of client.workflow.list({ query: 'ExecutionStatus = "Running"' })) {
      const described = await client.workflow.getHandle(wf.workflowId, wf.runId).describe();
      for (const activity of described.raw.pendingActivities ?? []) {
        if (activity.state !== STARTED) continue;
        const pid = Number(String(activity.lastWorkerIdentity ?? '').split('@')[0]);
        const host = this.hosts.find((h) => h.supervisor.pid !== undefined && h.supervisor.pid === pid);
        if (host) return host;
      }
    }
    return undefined;
  }

  /** Every JSON log line of every worker process so far, each tagged with its host. */
  logs(): Record<string, unknown>[] {
    return this.hosts.flatMap((h) => h.supervisor.logs().map((l) => ({ ...l, host: h.name })));
  }

  /** Where steps resumed from a checkpoint, in time order: host, step and the chunk or iteration. */
  resumes(): string[] {
    const byTime = this.logs().sort((a, b) => Number(a.time) - Number(b.time));
    return byTime.flatMap((l) => {
      if (l.msg === 'resumed at chunk') return [`${String(l.host)}: ingestion at chunk ${String(l.chunk)}`];
      if (/^resuming training from iteration/.test(String(l.msg)))
        return [`${String(l.host)}: training from iteration ${String(l.iteration)}`];
      return [];
    });
  }

  get processes(): number {
    return this.hosts.reduce((n, h) => n + h.supervisor.processes, 0);
  }

  get unexpectedExits(): number {
    return this.hosts.reduce((n, h) => n + h.supervisor.unexpectedExits, 0);
  }
}
