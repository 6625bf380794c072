/**
 * A real S3 server for the tests: versitygw (Apache-2.0, an S3 gateway over a local directory that
 * honours conditional puts), `versitygw` on PATH when installed, else built once with `go install`
 * from the Go module proxy into the project cache, as the Temporal CLI's last route is.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cacheDir, errorLine, onPath, shown, type Provisioner } from './index';
import { installStaged } from './staged';

/** Where the provisioned versitygw is, for the test processes. */
export const VERSITYGW_ENV = 'MLPIPE_TEST_VERSITYGW';

const VERSITYGW_VERSION = '1.8.0';
const VERSITYGW_MODULE = `github.com/versity/versitygw/cmd/versitygw@v${VERSITYGW_VERSION}`;
const MARKER = '.installed-version';

export const provisionS3: Provisioner = async (cache, log) => {
  const installed = onPath('versitygw');
  if (installed && runs(installed)) return found(installed, `s3: versitygw from PATH (${installed})`);

  const dir = path.join(cache, `versitygw-${VERSITYGW_VERSION}`);
  const binary = path.join(dir, 'bin', 'versitygw');
  const line = `s3: versitygw ${VERSITYGW_VERSION} built from the Go module proxy, cached in ${shown(dir)}`;
  if (fs.existsSync(path.join(dir, MARKER)) && runs(binary)) return found(binary, line);
  if (!onPath('go')) throw new Error('no versitygw on PATH and no Go toolchain to build it: install one of them');
  log(`building ${VERSITYGW_MODULE} with go install into ${shown(dir)} (about two minutes, once)`);
  fs.rmSync(dir, { recursive: true, force: true });
  await installStaged(dir, async (staging) => {
    const goDir = path.join(cache, 'go');
    try {
      execFileSync('go', ['install', VERSITYGW_MODULE], {
        env: {
          ...process.env,
          GOBIN: path.join(staging, 'bin'),
          GOPATH: goDir,
          GOCACHE: path.join(goDir, 'cache'),
          GOMODCACHE: path.join(goDir, 'pkg', 'mod'),
          GOFLAGS: '-modcacherw',
          CGO_ENABLED: '0',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (error) {
      throw new Error(`go install ${VERSITYGW_MODULE} failed: ${errorLine(error)}`);
    }
    fs.writeFileSync(path.join(staging, MARKER), VERSITYGW_VERSION);
  });
  if (!runs(binary)) throw new Error(`the versitygw built by go install (${shown(binary)}) does not run`);
  return found(binary, line);
};

/** The provisioned versitygw; a test file run on its own (not via `npm test`) provisions here. */
export async function versitygwPath(): Promise<string> {
  return process.env[VERSITYGW_ENV] ?? (await provisionS3(cacheDir(), () => {})).env[VERSITYGW_ENV]!;
}

function found(file: string, line: string): { env: Record<string, string>; line: string } {
  return { env: { [VERSITYGW_ENV]: file }, line };
}

function runs(file: string): boolean {
  try {
    execFileSync(file, ['--version'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}
