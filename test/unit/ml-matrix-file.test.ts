import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FeatureMatrix } from '../../src/ml/feature-matrix';
import { readMatrixFile, writeMatrixFile } from '../../src/ml/matrix-file';
import { lcg } from './ml-fixtures';

/** `rows` rows over `dayCount` days, `features` random columns with some NaN, two segments. */
function randomMatrix(rows: number, features: number, dayCount: number, seed: number): FeatureMatrix {
  const next = lcg(seed);
  const days = Array.from({ length: dayCount }, (_, d) =>
    new Date(Date.UTC(2024, 0, 1 + d)).toISOString().slice(0, 10),
  );
  return {
    features: Array.from({ length: features }, (_, j) => `f${j}`),
    segments: ['hub', 'night'],
    rows,
    columns: Array.from({ length: features }, () =>
      Float64Array.from({ length: rows }, () => (next() < 0.01 ? NaN : next() * 100 - 50)),
    ),
    labels: Uint8Array.from({ length: rows }, () => (next() < 0.2 ? 1 : 0)),
    days,
    dayIndex: Uint16Array.from({ length: rows }, (_, i) => Math.floor((i * dayCount) / rows)),
    segmentMasks: [
      Uint8Array.from({ length: rows }, () => (next() < 0.3 ? 1 : 0)),
      Uint8Array.from({ length: rows }, (_, i) => i % 2),
    ],
  };
}

function assertSameMatrix(actual: FeatureMatrix, expected: FeatureMatrix): void {
  assert.deepEqual(
    { features: actual.features, segments: actual.segments, rows: actual.rows, days: actual.days },
    { features: expected.features, segments: expected.segments, rows: expected.rows, days: expected.days },
  );
  // Byte comparison so NaN compares equal to NaN.
  const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  actual.columns.forEach((c, j) => assert.ok(bytes(c).equals(bytes(expected.columns[j]!)), `column ${j}`));
  assert.ok(bytes(actual.labels).equals(bytes(expected.labels)));
  assert.ok(bytes(actual.dayIndex).equals(bytes(expected.dayIndex)));
  actual.segmentMasks.forEach((m, k) => assert.ok(bytes(m).equals(bytes(expected.segmentMasks[k]!)), `mask ${k}`));
}

describe('matrix file', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlpipe-matrix-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('round-trips a matrix, NaN included, and hashes the file bytes', async () => {
    const m = randomMatrix(1001, 3, 7, 1); // odd row count: every section needs padding
    const file = path.join(dir, 'nested', 'm.bin');
    const { sha256, bytes } = await writeMatrixFile(file, m);
    const content = fs.readFileSync(file);
    assert.equal(bytes, content.length);
    assert.equal(sha256, crypto.createHash('sha256').update(content).digest('hex'));
    assert.equal(bytes % 8, 0);
    const back = await readMatrixFile(file);
    assertSameMatrix(back, m);
    assert.ok(back.columns[0]!.some(Number.isNaN));
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['m.bin'], 'no temporary file left behind');
  });

  it('is deterministic: the same matrix gives the same hash, another matrix another', async () => {
    const a = await writeMatrixFile(path.join(dir, 'a.bin'), randomMatrix(500, 2, 3, 7));
    const b = await writeMatrixFile(path.join(dir, 'b.bin'), randomMatrix(500, 2, 3, 7));
    const c = await writeMatrixFile(path.join(dir, 'c.bin'), randomMatrix(500, 2, 3, 8));
    assert.equal(a.sha256, b.sha256);
    assert.notEqual(a.sha256, c.sha256);
  });

  it('replaces an existing file', async () => {
    const file = path.join(dir, 'replace.bin');
    await writeMatrixFile(file, randomMatrix(10, 1, 2, 1));
    const m = randomMatrix(20, 2, 3, 2);
    await writeMatrixFile(file, m);
    assertSameMatrix(await readMatrixFile(file), m);
  });

  it('round-trips an empty matrix', async () => {
    const empty: FeatureMatrix = {
      features: ['a', 'b'],
      segments: [],
      rows: 0,
      columns: [new Float64Array(0), new Float64Array(0)],
      labels: new Uint8Array(0),
      days: [],
      dayIndex: new Uint16Array(0),
      segmentMasks: [],
    };
    const file = path.join(dir, 'empty.bin');
    await writeMatrixFile(file, empty);
    assertSameMatrix(await readMatrixFile(file), empty);
  });

  it('round-trips 200k rows x 8 features', async () => {
    const m = randomMatrix(200_000, 8, 30, 3);
    const file = path.join(dir, 'big.bin');
    const { bytes } = await writeMatrixFile(file, m);
    assert.ok(bytes > 200_000 * 8 * 8);
    assertSameMatrix(await readMatrixFile(file), m);
  });

  it('refuses an invalid matrix on write and leaves nothing behind', async () => {
    const m = randomMatrix(10, 1, 2, 1);
    const file = path.join(dir, 'invalid', 'm.bin');
    await assert.rejects(writeMatrixFile(file, { ...m, labels: new Uint8Array(10).fill(2) }), /label 0 is 2/);
    assert.equal(fs.existsSync(file), false);
  });

  describe('rejects unreadable files with a clear error', () => {
    let good: Buffer;
    before(async () => {
      const file = path.join(dir, 'good.bin');
      await writeMatrixFile(file, randomMatrix(100, 2, 3, 4));
      good = fs.readFileSync(file);
    });
    const expectRejected = async (name: string, content: Buffer, pattern: RegExp) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, content);
      await assert.rejects(readMatrixFile(file), (error: Error) => {
        assert.match(error.message, new RegExp(`${name} is not a readable feature matrix file`));
        assert.match(error.message, pattern);
        return true;
      });
    };

    it('a truncated file', () =>
      expectRejected(
        'truncated.bin',
        good.subarray(0, good.length - 8),
        /bytes, the header implies .* \(truncated or corrupt\)/,
      ));
    it('trailing bytes', () =>
      expectRejected('trailing.bin', Buffer.concat([good, Buffer.alloc(8)]), /truncated or corrupt/));
    it('a foreign file', () =>
      expectRejected('foreign.bin', Buffer.from('PAR1 this is something else entirely'), /wrong magic bytes/));
    it('an empty file', () => expectRejected('zero.bin', Buffer.alloc(0), /wrong magic bytes/));
    it('a header length past the end', () => {
      const bad = Buffer.from(good.subarray(0, 64));
      bad.writeUInt32LE(1 << 20, 8);
      return expectRejected('long-header.bin', bad, /bad header length/);
    });
    it('a header that is not JSON', () => {
      const bad = Buffer.from(good);
      bad.write('{{{{', 16, 'latin1');
      return expectRejected('not-json.bin', bad, /header is not JSON/);
    });
    it('a header of another format version', () => {
      const bad = Buffer.from(good);
      const at = bad.indexOf('"version":1');
      bad.write('"version":2', at, 'latin1');
      return expectRejected('version.bin', bad, /bad header: .*version/);
    });
    it('a bad label byte', () => {
      const bad = Buffer.from(good);
      const headerBytes = bad.readUInt32LE(8);
      bad[16 + headerBytes + 2 * 100 * 8] = 7; // first label
      return expectRejected('label.bin', bad, /label 0 is 7/);
    });
  });
});
