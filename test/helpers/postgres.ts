import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { sqlString } from '../../src/data/duckdb';
import { FLIGHTS, query } from './sources';

export interface TestPostgres {
  /** postgres:// URL of an empty database on the throwaway cluster. */
  url: string;
  /** Stops the server and deletes the cluster; safe to call twice. */
  stop(): Promise<void>;
}

const DATABASE = 'mlpipe_test';

/**
 * Starts a throwaway PostgreSQL cluster in a fresh temp dir, on a free loopback port, with its unix
 * socket inside that dir so it cannot clash with a system server. Durability is switched off: the
 * data is deleted on stop anyway, and it keeps startup and tests fast.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = findBinDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlpipe-pg-'));
  const dataDir = path.join(dir, 'data');
  // Postgres refuses to run as root, so as root the cluster belongs to the `postgres` user.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) execFileSync('chown', ['postgres:postgres', dir]);
  const run = (tool: string, args: string[]): string => {
    const command = asRoot ? ['runuser', '-u', 'postgres', '--', path.join(bin, tool), ...args] : [path.join(bin, tool), ...args];
    // cwd: the postgres user may not be allowed into the caller's working directory.
    return execFileSync(command[0]!, command.slice(1), { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
  };

  let started = false;
  const stopSync = (): void => {
    try {
      if (started) {
        started = false;
        run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  // Safety net when a test run dies before calling stop(): never leave a server behind.
  process.once('exit', stopSync);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', stopSync);
    stopSync();
  };

  try {
    run('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
    const port = await freePort();
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    try {
      run('pg_ctl', ['-D', dataDir, '-l', path.join(dir, 'server.log'), '-w', '-t', '30', '-o', options, 'start']);
    } finally {
      // pg_ctl may fail after the server came up (e.g. wait timeout); the pid file says whether it did.
      started = fs.existsSync(path.join(dataDir, 'postmaster.pid'));
    }
    run('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', DATABASE]);
    return { url: `postgres://postgres@127.0.0.1:${port}/${DATABASE}`, stop };
  } catch (error) {
    const log = readIfExists(path.join(dir, 'server.log'));
    await stop();
    throw new Error(`startPostgres failed: ${describe(error)}${log ? `\nserver log:\n${log}` : ''}`, { cause: error });
  }
}

function findBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => /^\d+$/.test(v)) : [];
  const newest = versions
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => path.join(root, v, 'bin'))
    .find((bin) => fs.existsSync(path.join(bin, 'initdb')));
  if (!newest) {
    throw new Error(`PostgreSQL server binaries not found under ${root}/<version>/bin: install Debian's postgresql package`);
  }
  return newest;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function readIfExists(file: string): string {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

/** execFileSync errors carry the tool's stderr, which says what actually went wrong. */
function describe(error: unknown): string {
  const stderr = (error as { stderr?: unknown }).stderr;
  const message = error instanceof Error ? error.message : String(error);
  return typeof stderr === 'string' && stderr.trim() ? `${message}\n${stderr.trim()}` : message;
}

/** A new, empty database on a running test server: its URL (one per test, so tests never share state). */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface FlightRow {
  date: string;
  delay: number;
  distance: number;
  origin: string;
  destination: string;
}

/** A `flights` table holding the first `count` real flights (after `edit`), as a warehouse would. */
export async function seedFlightsTable(url: string, count: number, edit: (rows: FlightRow[]) => void = () => {}): Promise<void> {
  const rows = await query<FlightRow>(`SELECT strftime(date, '%Y-%m-%d %H:%M:%S') AS date, delay, distance, origin, destination FROM read_parquet(${sqlString(FLIGHTS)}) LIMIT ${count}`);
  edit(rows);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CREATE TABLE flights (date timestamp, delay integer, distance integer, origin text, destination text)');
    for (let i = 0; i < rows.length; i += 500) {
      const batch = rows.slice(i, i + 500);
      const values = batch.map((_, j) => `($${j * 5 + 1}, $${j * 5 + 2}, $${j * 5 + 3}, $${j * 5 + 4}, $${j * 5 + 5})`).join(', ');
      await client.query(`INSERT INTO flights VALUES ${values}`, batch.flatMap((r) => [r.date, r.delay, r.distance, r.origin, r.destination]));
    }
  } finally {
    await client.end();
  }
}
