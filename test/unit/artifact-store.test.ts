import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArtifactStore, sha256File, sha256Files, type ArtifactKey } from '../../src/data/artifact-store';
import { exists, writeFileAtomic } from '../../src/data/atomic-files';

let dataDir: string;
let store: ArtifactStore;

before(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlpipe-artifacts-'));
  store = ArtifactStore.local(dataDir);
});

after(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const key: ArtifactKey = { kind: 'datasets', name: 'flights', version: '1.0.0', partition: '2001-01-01' };

describe('ArtifactStore paths', () => {
  it('puts the store under <dataDir>/artifacts', () => {
    assert.equal(store.root, path.join(dataDir, 'artifacts'));
  });

  it('fixes every path by the key', () => {
    const rel = path.join('datasets', 'flights', '1.0.0', '2001-01-01');
    assert.equal(store.relative(key), rel);
    assert.equal(store.stagingDir(key), path.join(dataDir, 'artifacts', '_staging', rel));
    assert.equal(store.workDir(key), path.join(dataDir, 'artifacts', '_work', rel));
    assert.equal(store.uri(key), 'artifact:datasets/flights/1.0.0/2001-01-01');
  });

  it('gives the same key the same paths, and different keys different paths', () => {
    const again = ArtifactStore.local(dataDir);
    assert.equal(again.stagingDir({ ...key }), store.stagingDir(key));
    assert.equal(again.uri({ ...key }), store.uri(key));
    const others: ArtifactKey[] = [
      { ...key, kind: 'dead-letters' },
      { ...key, name: 'flights2' },
      { ...key, version: '1.0.1' },
      { ...key, partition: '2001-01-02' },
    ];
    const dirs = new Set([store.stagingDir(key), ...others.map((k) => store.stagingDir(k))]);
    assert.equal(dirs.size, 5);
  });

  it("refuses unsafe segments ('..', '.', '/', spaces, empty) in name, version and partition", () => {
    const bad: [keyof ArtifactKey, string][] = [
      ['name', '..'],
      ['name', '.'],
      ['name', 'a/b'],
      ['name', '../etc'],
      ['name', 'two words'],
      ['name', ''],
      ['version', '../../x'],
      ['version', '1.0 '],
      ['partition', 'a\\b'],
      ['partition', '/abs'],
      ['partition', '..'],
    ];
    for (const [field, value] of bad) {
      const unsafe = { ...key, [field]: value } as ArtifactKey;
      for (const fn of [() => store.workDir(unsafe), () => store.stagingDir(unsafe), () => store.uri(unsafe)]) {
        assert.throws(
          fn,
          new RegExp(`^Error: ${field} "${value.replace(/[.\\/]/g, '\\$&')}" may contain only`),
          `${field}=${JSON.stringify(value)}`,
        );
      }
    }
  });

  it('accepts dotted, dashed and underscored segments', () => {
    assert.doesNotThrow(() =>
      store.uri({ kind: 'models', name: 'delay-model_v2', version: '2.10.3', partition: 'run-a.b-c_d' }),
    );
  });
});

describe('ArtifactStore.open', () => {
  const reportKey: ArtifactKey = { kind: 'reports', name: 'flights-open', version: '1.0.0', partition: 'open' };

  it('opens a published artifact, or one file of it, by URI', async () => {
    fs.mkdirSync(store.stagingDir(reportKey), { recursive: true });
    fs.writeFileSync(path.join(store.stagingDir(reportKey), 'gate-report.json'), '{}');
    const published = await store.publish(reportKey);
    assert.equal(await store.open(store.uri(reportKey)), published);
    assert.equal(
      await store.open(`${store.uri(reportKey)}/gate-report.json`),
      path.join(published, 'gate-report.json'),
    );
    assert.equal(await store.isPublished(reportKey), true);
  });

  it('says when nothing is published at a URI', async () => {
    const missing = { ...reportKey, partition: 'never' };
    await assert.rejects(store.openKey(missing), { name: 'ArtifactNotFound', message: /nothing is published at/ });
    assert.equal(await store.openIfPublished(store.uri(missing)), undefined);
    assert.equal(await store.isPublished(missing), false);
  });

  it('refuses URIs that escape the store or name its scratch areas', async () => {
    for (const uri of [
      'artifact:..',
      'artifact:../x',
      'artifact:../../etc/passwd',
      'artifact:datasets/../../x/y/z',
      'artifact:/etc/passwd',
      'artifact:_staging/datasets/flights/1.0.0/p',
      'artifact:datasets/flights',
    ]) {
      await assert.rejects(store.open(uri), /not an artifact of this store/, uri);
    }
  });

  it('refuses something that is not an artifact URI', async () => {
    await assert.rejects(store.open('/etc/passwd'), /not an artifact URI/);
    await assert.rejects(store.open('file:datasets/x'), /not an artifact URI/);
  });
});

describe('ArtifactStore.publish', () => {
  const pubKey: ArtifactKey = { kind: 'reports', name: 'flights', version: '1.0.0', partition: 'p1' };

  function stage(files: Record<string, string>): void {
    const dir = store.stagingDir(pubKey);
    fs.mkdirSync(dir, { recursive: true });
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  }

  it('moves the staged directory into place when nothing is published yet', async () => {
    stage({ 'report.json': '{"v":1}' });
    const final = await store.publish(pubKey);
    assert.equal(final, await store.openKey(pubKey));
    assert.equal(fs.readFileSync(path.join(final, 'report.json'), 'utf8'), '{"v":1}');
    assert.equal(fs.existsSync(store.stagingDir(pubKey)), false);
  });

  it('replaces an existing published dir: old content gone, new present, staging and backup gone', async () => {
    const final = await store.openKey(pubKey);
    assert.ok(fs.existsSync(path.join(final, 'report.json')), 'precondition: first publish happened');
    fs.writeFileSync(path.join(final, 'stale.txt'), 'old');

    stage({ 'report.json': '{"v":2}', 'extra.txt': 'new' });
    await store.publish(pubKey);

    assert.deepEqual(fs.readdirSync(final).sort(), ['extra.txt', 'report.json']);
    assert.equal(fs.readFileSync(path.join(final, 'report.json'), 'utf8'), '{"v":2}');
    assert.equal(await exists(store.stagingDir(pubKey)), false);
    // No ".old-<pid>-<time>" backup is left beside the published directory.
    assert.deepEqual(fs.readdirSync(path.dirname(final)), [path.basename(final)]);
  });
});

describe('writeFileAtomic', () => {
  it('writes the content, creating parent directories, and leaves no tmp file', async () => {
    const file = path.join(dataDir, 'atomic', 'deep', 'manifest.json');
    await writeFileAtomic(file, '{"a":1}');
    assert.equal(fs.readFileSync(file, 'utf8'), '{"a":1}');
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['manifest.json']);
  });

  it('overwrites an existing file and still leaves no tmp file', async () => {
    const file = path.join(dataDir, 'atomic', 'deep', 'manifest.json');
    await writeFileAtomic(file, '{"a":2}');
    assert.equal(fs.readFileSync(file, 'utf8'), '{"a":2}');
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['manifest.json']);
  });
});

describe('sha256File and sha256Files', () => {
  let dir: string;
  let a: string;
  let b: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(dataDir, 'hash-'));
    a = path.join(dir, 'a.parquet');
    b = path.join(dir, 'b.parquet');
    fs.writeFileSync(a, 'abc');
    fs.writeFileSync(b, 'def');
  });

  it('hashes a file like crypto does', async () => {
    assert.equal(await sha256File(a), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('is stable for the same files in the same order', async () => {
    assert.equal(await sha256Files([a, b]), await sha256Files([a, b]));
    assert.match(await sha256Files([a, b]), /^[0-9a-f]{64}$/);
  });

  it('matches the documented construction (basename:hash per line)', async () => {
    const expected = crypto
      .createHash('sha256')
      .update(`a.parquet:${await sha256File(a)}\n`)
      .update(`b.parquet:${await sha256File(b)}\n`)
      .digest('hex');
    assert.equal(await sha256Files([a, b]), expected);
  });

  it('changes when the order changes', async () => {
    assert.notEqual(await sha256Files([a, b]), await sha256Files([b, a]));
  });

  it('changes when the content changes', async () => {
    const before = await sha256Files([a, b]);
    fs.writeFileSync(b, 'deF');
    assert.notEqual(await sha256Files([a, b]), before);
  });

  it('changes when a file is added or dropped', async () => {
    assert.notEqual(await sha256Files([a]), await sha256Files([a, b]));
    assert.notEqual(await sha256Files([]), await sha256Files([a]));
  });
});
