import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { mlpipe } from '../helpers/cli';
import { spawnWorker, testConfig, uniqueTaskQueue, type WorkerProcess } from '../helpers/temporal';

/**
 * A user project outside the repository, as a team would use it: `mlpipe init` scaffolds it, and a
 * worker and the CLI started on it (`--project`, MLPIPE_PROJECT, or the folder itself) run its spec on
 * the real server, with its data under the project's own data folder.
 */
const config = testConfig();
const taskQueue = uniqueTaskQueue('user-project');
const project = path.join(config.dataDir, 'my-project');
// Empty: the project's own data folder (<project>/data) is the default.
const env = { MLPIPE_DATA_DIR: '', MLPIPE_DATABASE_URL: '', TEMPORAL_TASK_QUEUE: taskQueue };

describe('a user project made by mlpipe init', () => {
  let worker: WorkerProcess | undefined;

  before(async () => {
    const made = await mlpipe(['init', project], env);
    assert.equal(made.code, 0, made.stderr);
    worker = spawnWorker(config, taskQueue, { ...env, MLPIPE_PROJECT: project });
  });

  after(async () => {
    worker?.child.kill('SIGTERM');
    await worker?.exited;
  });

  test('holds a config, an example spec that imports only the public API, sample data and a README', () => {
    for (const file of ['mlpipe.config.ts', 'specs/weather.ts', 'README.md', 'data/incoming/weather.csv'])
      assert.ok(fs.existsSync(path.join(project, file)), file);
    const specSource = fs.readFileSync(path.join(project, 'specs', 'weather.ts'), 'utf8');
    assert.match(specSource, /from 'temporal-ml-pipelines'/);
    assert.doesNotMatch(specSource, /src\//);
  });

  test('init refuses a folder that is not empty, and changes nothing in it', async () => {
    const before = fs.readFileSync(path.join(project, 'mlpipe.config.ts'), 'utf8');
    const again = await mlpipe(['init', project], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /not empty/);
    assert.equal(fs.readFileSync(path.join(project, 'mlpipe.config.ts'), 'utf8'), before);
  });

  test("the CLI sees the project's specs, not the bundled examples", async () => {
    const r = await mlpipe(['--json', '--project', project, 'specs'], env);
    assert.equal(r.code, 0, r.stderr);
    const listed = JSON.parse(r.stdout) as { project: string; specs: { name: string; model?: string }[] };
    assert.equal(listed.project, project);
    assert.deepEqual(listed.specs, [{ name: 'weather', version: '1.0.0', model: 'wet-day' }]);
    const flights = await mlpipe(['--project', project, 'ingest', '--spec', 'flights', '--batch', 'b'], env);
    assert.notEqual(flights.code, 0);
    assert.match(flights.stderr, /unknown spec "flights" \(known: weather\)/);
  });

  test("ingests the sample and builds feature partitions from it, on the project's worker and data folder", async () => {
    const ingested = await mlpipe(
      [
        '--json',
        '--project',
        project,
        'ingest',
        '--spec',
        'weather',
        '--batch',
        'sample',
        '--as-of',
        '2016-01-01T00:00:00Z',
      ],
      env,
      240_000,
    );
    assert.equal(ingested.code, 0, ingested.stderr);
    const result = JSON.parse(ingested.stdout) as { rowsRead: number; rowsAccepted: number; rowsRejected: number };
    const sampleRows =
      fs
        .readFileSync(path.join(project, 'data', 'incoming', 'weather.csv'), 'utf8')
        .trim()
        .split('\n').length - 1;
    assert.equal(result.rowsRead, sampleRows);
    assert.equal(result.rowsAccepted + result.rowsRejected, result.rowsRead);

    const built = await mlpipe(
      [
        '--json',
        '--project',
        project,
        'features',
        'backfill',
        '--spec',
        'weather',
        '--from',
        '2015-03-01',
        '--to',
        '2015-03-07',
      ],
      env,
      240_000,
    );
    assert.equal(built.code, 0, built.stderr);
    const backfill = JSON.parse(built.stdout) as { total: number; computed: number };
    assert.equal(backfill.total, 7);
    assert.equal(backfill.computed, 7);
    assert.ok(fs.existsSync(path.join(project, 'data', 'metadata.sqlite')), "the project's own metadata store");
  });

  test('after runs used a spec version, an edit to what it means is refused until the version is bumped', async () => {
    const specFile = path.join(project, 'specs', 'weather.ts');
    const original = fs.readFileSync(specFile, 'utf8');
    const listSpecs = () => mlpipe(['--json', '--project', project, 'specs'], env);
    try {
      // The ingest above pinned weather 1.0.0; a loosened gate under the same version means something else.
      fs.writeFileSync(specFile, original.replace('rejectRate: { max: 0.001 }', 'rejectRate: { max: 0.2 }'));
      const edited = await listSpecs();
      assert.equal(edited.code, 2);
      assert.match(
        edited.stderr,
        /specs\/weather\.ts: version: spec weather 1\.0\.0 was first used on \d{4}-\d\d-\d\d with another definition/,
      );

      fs.writeFileSync(specFile, original.replace("description: 'Predict whether", "description: 'Tell whether"));
      const reworded = await listSpecs();
      assert.equal(reworded.code, 0, `a description is prose, not meaning: ${reworded.stderr}`);

      fs.writeFileSync(
        specFile,
        original
          .replace('rejectRate: { max: 0.001 }', 'rejectRate: { max: 0.2 }')
          .replace("version: '1.0.0',\n  description", "version: '1.1.0',\n  description"),
      );
      const bumped = await listSpecs();
      assert.equal(bumped.code, 0, bumped.stderr);
      assert.equal((JSON.parse(bumped.stdout) as { specs: { version: string }[] }).specs[0]?.version, '1.1.0');
    } finally {
      fs.writeFileSync(specFile, original);
    }
  });
});
