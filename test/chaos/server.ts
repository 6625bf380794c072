import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { ensureServer, type RunningServer } from '../../src/temporal/dev-server';
import { freePort } from '../helpers/ports';

/**
 * The chaos run's own Temporal dev server (never the shared test server): a free loopback port and a
 * persistent SQLite file under `dir`, so it can be stopped and started again on the same database.
 */
export class ChaosServer {
  private running?: RunningServer;
  restarts = 0;

  private constructor(
    readonly address: string,
    private readonly dir: string,
    private readonly namespaces: string[],
    private readonly log: (line: string) => void,
  ) {}

  static async start(dir: string, namespaces: string[], log: (line: string) => void): Promise<ChaosServer> {
    fs.mkdirSync(dir, { recursive: true });
    const server = new ChaosServer(`127.0.0.1:${await freePort()}`, dir, namespaces, log);
    await server.up();
    return server;
  }

  get dbFile(): string {
    return path.join(this.dir, 'temporal', 'dev-server.sqlite');
  }

  private async up(): Promise<void> {
    const config = loadConfig({
      ...process.env,
      TEMPORAL_ADDRESS: this.address,
      TEMPORAL_NAMESPACE: this.namespaces[0],
      MLPIPE_DATA_DIR: this.dir,
    });
    this.running = await ensureServer(config, {
      ui: false,
      extraNamespaces: this.namespaces.slice(1),
      readyTimeoutMs: 120_000,
      log: this.log,
    });
    if (!this.running.started)
      throw new Error(`something else already answers at ${this.address}: the chaos run needs a server of its own`);
  }

  /** Stops the server and starts it again on the same port and database file. */
  async restart(): Promise<void> {
    await this.running?.stop();
    this.running = undefined;
    await this.up();
    this.restarts++;
  }

  async stop(): Promise<void> {
    await this.running?.stop();
    this.running = undefined;
  }
}
