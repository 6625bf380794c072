import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { startTraining } from '../../src/client/training';
import { ArtifactStore, type ArtifactKey } from '../../src/data/artifact-store';
import { ObjectStore } from '../../src/data/object-store';
import { partitionRange } from '../../src/features/partition-dates';
import { openMetadataStore } from '../../src/store/database';
import { startS3, type TestS3 } from '../helpers/s3';
import { connect, spawnWorker, startWorker, testConfig, uniqueTaskQueue } from '../helpers/temporal';

/**
 * The object store's faults, against a versitygw of this file's own (it is stopped on purpose): every
 * one a clear error, nothing published half, no secret in any log.
 */
const BUCKET = 'faults';
let s3: TestS3;
let remote: ObjectStore;
const scratch = fs.mkdtempSync(path.join(process.env.MLPIPE_TEST_TMP ?? os.tmpdir(), 'hosts-'));
/** Two hosts' artifact stores over one bucket: what one publishes, the other opens. */
let hostA: ArtifactStore;
let hostB: ArtifactStore;

before(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  Object.assign(process.env, s3.credentials);
  remote = new ObjectStore({ bucket: BUCKET, prefix: 'store/', endpoint: s3.endpoint, region: 'us-east-1' });
  hostA = new ArtifactStore(path.join(scratch, 'a'), remote);
  hostB = new ArtifactStore(path.join(scratch, 'b'), remote);
});

after(async () => {
  remote.close();
  await s3.stop();
});

let n = 0;
/** Publishes `files` from host A under a fresh key; returns the key. */
async function publishFromA(files: Record<string, string>): Promise<ArtifactKey> {
  const key: ArtifactKey = { kind: 'datasets', name: 'faults', version: '1', partition: `p${++n}` };
  const staging = hostA.stagingDir(key);
  fs.mkdirSync(staging, { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(staging, name), text);
  await hostA.publish(key);
  return key;
}

const versionObjects = async (key: ArtifactKey) =>
  (await remote.list(`${hostA.relative(key)}/`)).filter((o) => o.key.startsWith('v-')).map((o) => o.key);

describe('artifacts in an object store', () => {
  test('another host opens what one published, and a re-publish replaces it whole', async () => {
    const key = await publishFromA({ 'part-0.parquet': 'one', 'part-1.parquet': 'two' });
    const dir = await hostB.openKey(key);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['part-0.parquet', 'part-1.parquet']);
    assert.equal(fs.readFileSync(path.join(dir, 'part-1.parquet'), 'utf8'), 'two');

    fs.mkdirSync(hostA.stagingDir(key), { recursive: true });
    fs.writeFileSync(path.join(hostA.stagingDir(key), 'part-0.parquet'), 'three');
    await hostA.publish(key);
    const again = await hostB.openKey(key);
    assert.deepEqual(fs.readdirSync(again), ['part-0.parquet'], 'the old version is gone from the reader');
    assert.equal(fs.readFileSync(path.join(again, 'part-0.parquet'), 'utf8'), 'three');
    assert.equal((await versionObjects(key)).length, 1, 'the old version is removed from the bucket');
    assert.deepEqual(await remote.list(`_staging/${hostA.relative(key)}/`), [], 'staging is removed');
  });

  test('objects uploaded without their manifest (a publisher killed mid-publish) are never seen', async () => {
    const key = await publishFromA({ 'part-0.parquet': 'published' });
    const orphan = path.join(scratch, 'orphan.parquet');
    fs.writeFileSync(orphan, 'half');
    await remote.putFile(`${hostA.relative(key)}/v-zzz-half/part-0.parquet`, orphan);
    await remote.putFile(`${hostA.relative(key)}/v-zzz-half/part-1.parquet`, orphan);
    const dir = await hostB.openKey(key);
    assert.deepEqual(fs.readdirSync(dir), ['part-0.parquet']);
    assert.equal(fs.readFileSync(path.join(dir, 'part-0.parquet'), 'utf8'), 'published');
  });

  test('a manifest naming a missing object is a clear error, not an empty artifact', async () => {
    const key = await publishFromA({ 'part-0.parquet': 'a', 'part-1.parquet': 'b' });
    const [first] = (await versionObjects(key)).sort();
    await remote.delete([`${hostA.relative(key)}/${first}`]);
    await assert.rejects(hostB.openKey(key), {
      name: 'ArtifactCorrupt',
      message:
        /the manifest of artifact:datasets\/faults\/1\/p\d+ \(version [\w-]+\) names part-0\.parquet, which is missing from the object store/,
    });
  });

  test('an object changed after it was published is refused (its ETag no longer matches)', async () => {
    const key = await publishFromA({ 'part-0.parquet': 'original' });
    const [object] = await versionObjects(key);
    await remote.putText(`${hostA.relative(key)}/${object}`, 'tampered');
    await assert.rejects(hostB.openKey(key), {
      name: 'ArtifactCorrupt',
      message:
        /part-0\.parquet of artifact:datasets\/faults\/1\/p\d+ \(version [\w-]+\) was changed after it was published/,
    });
  });

  test('a checkpoint moves between hosts: what one mirrored, the other restores, and removals follow', async () => {
    const key: ArtifactKey = { kind: 'datasets', name: 'faults', version: '1', partition: 'checkpoint' };
    const work = hostA.workDir(key);
    fs.mkdirSync(path.join(work, 'chunks'), { recursive: true });
    fs.writeFileSync(path.join(work, 'chunks', '00000.json'), '{"chunk":0}');
    fs.writeFileSync(path.join(work, 'chunks', '00001.json.tmp'), 'half written');
    await hostA.checkpoint(key, 'work');
    const restored = await hostB.restore(key, 'work');
    assert.deepEqual(fs.readdirSync(path.join(restored, 'chunks')), ['00000.json'], 'temporary files stay home');

    fs.rmSync(path.join(work, 'chunks', '00000.json'));
    fs.writeFileSync(path.join(work, 'chunks', '00002.json'), '{"chunk":2}');
    await hostA.checkpoint(key, 'work');
    await hostB.restore(key, 'work');
    assert.deepEqual(fs.readdirSync(path.join(restored, 'chunks')), ['00002.json']);

    await hostA.discard(key, 'work');
    await hostB.restore(key, 'work');
    assert.equal(fs.existsSync(restored), false, 'a discarded area is gone on every host that restores it');
  });
});

describe('a worker against a bad object-store setting', () => {
  const workerFails = async (env: Record<string, string>) => {
    const config = testConfig();
    const worker = spawnWorker(config, uniqueTaskQueue('bad-s3'), {
      MLPIPE_S3_ENDPOINT: s3.endpoint,
      MLPIPE_ARTIFACTS_URL: `s3://${BUCKET}/worker`,
      ...env,
    });
    let stderr = '';
    worker.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await worker.exited;
    return { code, output: `${stderr}\n${worker.logs.map((l) => JSON.stringify(l)).join('\n')}` };
  };

  test('a missing bucket stops the worker at start, naming the bucket', async () => {
    const { code, output } = await workerFails({ MLPIPE_ARTIFACTS_URL: 's3://no-such-bucket/x' });
    assert.notEqual(code, 0);
    assert.match(output, /bucket no-such-bucket does not exist/);
  });

  test('wrong credentials stop the worker at start, and the secret is in no log line', async () => {
    const secret = 'wrong-secret-4f1c9a';
    const { code, output } = await workerFails({ AWS_SECRET_ACCESS_KEY: secret });
    assert.notEqual(code, 0);
    assert.match(output, /object store refused the credentials .*check AWS_ACCESS_KEY_ID \/ AWS_SECRET_ACCESS_KEY/);
    assert.ok(!output.includes(secret), 'the secret is never printed');
    assert.ok(!output.includes(s3.credentials.AWS_SECRET_ACCESS_KEY), 'nor the right one');
  });
});

describe('the object store going away mid-pipeline', () => {
  test('unreachable: the step is retried with backoff, then the run fails saying so', async () => {
    const [FROM, TO] = ['2001-01-08', '2001-01-28'];
    const own = await startS3();
    await own.createBucket(BUCKET);
    // The worker's SDK client reads the credentials once; this server's are the ones it gets.
    Object.assign(process.env, own.credentials);
    const config = testConfig({ MLPIPE_ARTIFACTS_URL: `s3://${BUCKET}/away`, MLPIPE_S3_ENDPOINT: own.endpoint });
    const taskQueue = uniqueTaskQueue('s3-away');
    const worker = await startWorker(config, taskQueue);
    const client = await connect(config);
    // The registry says the window's feature partitions are published; their files are in the store.
    const store = await openMetadataStore(config.databaseUrl);
    for (const day of partitionRange(FROM, TO))
      await store.features.recordPartition({
        feature_set: 'flight_delay',
        version: '1',
        partition: day,
        status: 'published',
        rows: 1,
        input_uri: 'artifact:datasets/flights/1.0.0/train',
        output_uri: `artifact:features/flight_delay/1/${day}`,
        output_hash: 'x',
        stats: {},
        duration_ms: 1,
        workflow_id: 'backfill',
        run_id: 'backfill',
        created_at: new Date().toISOString(),
      });
    await store.close();
    try {
      await own.stop();
      const handle = await startTraining(client, config, {
        spec: 'flights',
        from: FROM,
        to: TO,
        initiatedBy: 'test',
        reason: 'the object store is gone',
        taskQueue,
      });
      const error = await handle.result().catch((e: unknown) => e);
      assert.ok(error instanceof WorkflowFailedError, String(error));
      const message = (error.cause as Error).message;
      assert.match(message, /object store unreachable \((get|list) s3:\/\/faults\/away\/.*\): .*ECONNREFUSED/);
      const history = await handle.fetchHistory();
      const attempts = (history.events ?? []).flatMap((e) =>
        e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt ?? 1] : [],
      );
      assert.ok(Math.max(...attempts) > 1, `retried before failing (attempts ${attempts})`);
    } finally {
      Object.assign(process.env, s3.credentials);
      await worker.stop();
      await client.connection.close();
    }
  });
});
