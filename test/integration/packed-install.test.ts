import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, testConfig, uniqueTaskQueue, waitFor } from '../helpers/temporal';

const run = promisify(execFile);

/**
 * The package as a team gets it: `npm pack`, the tarball installed in an empty folder outside the
 * repository (only Node and the npm registry), `mlpipe init`, then from the new project's folder:
 * ingest its sample, build features, train, be refused by the initiator and approved by a listed
 * reviewer, and serve a prediction from the promoted model, all on the suite's real Temporal server.
 */
const config = testConfig();
const root = path.join(config.dataDir, 'outside-the-repo');
const installDir = path.join(root, 'install');
const project = path.join(installDir, 'my-project');
const mlpipeBin = path.join(installDir, 'node_modules', '.bin', 'mlpipe');
const taskQueue = uniqueTaskQueue('packed');
// MLPIPE_DATA_DIR empty: the project's own data folder. The namespace and address are the suite's.
const env = {
  ...process.env,
  MLPIPE_DATA_DIR: '',
  MLPIPE_DATABASE_URL: '',
  MLPIPE_PROJECT: '',
  TEMPORAL_TASK_QUEUE: taskQueue,
  LOG_LEVEL: 'warn',
};
const MINUTE = 60_000;

async function mlpipe(args: string[], timeout = 5 * MINUTE): Promise<string> {
  const { stdout } = await run(mlpipeBin, ['--json', ...args], { cwd: project, env, timeout, maxBuffer: 64 << 20 });
  return stdout;
}

/** A long-running mlpipe command (worker, serve) in the project folder, and the first stdout line matching `ready`. */
function start(
  args: string[],
  ready: RegExp,
  extraEnv: Record<string, string> = {},
): { child: ChildProcess; ready: Promise<string> } {
  const child = spawn(mlpipeBin, args, {
    cwd: project,
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const readyLine = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => ready.test(l));
      if (line) resolve(line);
    });
    child.on('exit', (code) => reject(new Error(`mlpipe ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`)));
  });
  return { child, ready: readyLine };
}

/**
 * better-sqlite3 has no prebuilt binary reachable here, so installing it compiles it (about 100 s of a
 * 4-minute test). The repository's own build of the same version (the package pins it) for this Node
 * is handed to its prebuild-install as a local prebuild, which loads a prebuild before accepting it:
 * the install of this package is what the test is about, not a C++ compile.
 */
async function sqlitePrebuildDir(): Promise<string> {
  const dir = path.join(root, 'prebuilds');
  const sqlite = path.join(REPO_ROOT, 'node_modules', 'better-sqlite3');
  const { version } = JSON.parse(fs.readFileSync(path.join(sqlite, 'package.json'), 'utf8')) as { version: string };
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  fs.mkdirSync(dir, { recursive: true });
  await run('tar', ['-czf', path.join(dir, name), '-C', sqlite, 'build/Release/better_sqlite3.node']);
  return dir;
}

describe('the npm package installed outside the repository', { timeout: 20 * MINUTE }, () => {
  const children: ChildProcess[] = [];

  before(async () => {
    fs.mkdirSync(installDir, { recursive: true });
    const packed = await run('npm', ['pack', '--json', '--pack-destination', root], {
      cwd: REPO_ROOT,
      timeout: 5 * MINUTE,
    });
    const tarball = path.join(root, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
    fs.writeFileSync(path.join(installDir, 'package.json'), JSON.stringify({ name: 'a-team', private: true }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
      cwd: installDir,
      env: { ...process.env, npm_config_better_sqlite3_local_prebuilds: await sqlitePrebuildDir() },
      timeout: 12 * MINUTE,
      maxBuffer: 64 << 20,
    });
    await run(mlpipeBin, ['init', project], { cwd: installDir, env, timeout: MINUTE });
    // At info level the worker logs "worker ready" once it polls.
    const worker = start(['worker'], /"msg":"worker ready"/, { LOG_LEVEL: 'info' });
    children.push(worker.child);
    await worker.ready;
  });

  after(async () => {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.on('exit', r)) : undefined)));
  });

  test('the package ships no tests, benchmarks or repository files, and mlpipe init used the installed API', () => {
    const installed = path.join(installDir, 'node_modules', 'temporal-ml-pipelines');
    for (const absent of ['test', 'bench', '.ci', 'docker-compose.yml'])
      assert.ok(!fs.existsSync(path.join(installed, absent)), absent);
    assert.ok(
      !fs.existsSync(path.join(project, 'node_modules')),
      'no link: the package resolves from the install folder',
    );
  });

  test('from the project folder: ingest, features, training with four eyes, and a served prediction', async () => {
    const ingested = JSON.parse(
      await mlpipe(['ingest', '--spec', 'weather', '--batch', 'sample', '--as-of', '2016-01-01T00:00:00Z']),
    ) as {
      rowsRead: number;
      rowsAccepted: number;
      rowsRejected: number;
    };
    assert.equal(ingested.rowsAccepted + ingested.rowsRejected, ingested.rowsRead);
    assert.ok(ingested.rowsAccepted > 2900, `${ingested.rowsAccepted} rows accepted`);

    // The spec's default training window (2012-01-08..2013-12-31).
    const built = JSON.parse(
      await mlpipe([
        'features',
        'backfill',
        '--spec',
        'weather',
        '--from',
        '2012-01-08',
        '--to',
        '2013-12-31',
        '--days-per-run',
        '31',
      ]),
    ) as { total: number; computed: number };
    assert.equal(built.computed, built.total);

    await mlpipe(['train', '--spec', 'weather', '--as', 'you', '--run-id', 'packed']);
    const workflowId = 'training/wet-day/packed';
    const stage = async () =>
      (JSON.parse(await mlpipe(['status', workflowId])) as { progress?: { stage: string } }).progress?.stage;
    await waitFor(
      `${workflowId} awaiting approval`,
      async () => (await stage()) === 'AwaitingApproval',
      5 * MINUTE,
      1000,
    );

    await assert.rejects(mlpipe(['approve', workflowId, '--reviewer', 'you', '--comment', 'mine']), /not a reviewer/);
    await mlpipe(['approve', workflowId, '--reviewer', 'dana', '--comment', 'AUC above the baseline']);
    await waitFor(`${workflowId} completed`, async () => (await stage()) === 'Completed', 5 * MINUTE, 1000);

    const server = start(['--json', 'serve', '--port', '0'], /"url"/);
    children.push(server.child);
    const url = (await server.ready).match(/"url": "([^"]+)"/)![1]!;
    const response = await fetch(`${url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'wet-day',
        // The day after the last backfilled partition: the online store has Seattle's features as of
        // then (a request dated before them gets defaults: a value from the future is never served).
        rows: [{ date: '2014-01-01', location: 'Seattle', temp_max: 8.3, temp_min: 2.8, wind: 3.1 }],
      }),
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as {
      stage: string;
      predictions: { score: number; featureSources: Record<string, string> }[];
    };
    assert.equal(body.stage, 'production');
    const [prediction] = body.predictions;
    assert.ok(prediction!.score > 0 && prediction!.score < 1, `score ${prediction!.score}`);
    const entitySources = Object.values(prediction!.featureSources).filter((source) => source !== 'event');
    assert.ok(entitySources.length > 0, 'the model uses entity features');
    assert.deepEqual(new Set(entitySources), new Set(['fresh']), JSON.stringify(prediction!.featureSources));
  });
});
