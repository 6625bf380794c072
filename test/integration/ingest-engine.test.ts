import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDuckDb, sqlString } from '../../src/data/duckdb';
import { ingest, type IngestRequest } from '../../src/data/ingest-engine';
import { loadSpec } from '../../src/specs';
import { FLIGHTS, query } from '../helpers/sources';

/** The engine under Temporal's feet: interrupted runs resume only onto staging cut the same way. */
test('a run interrupted mid-way resumes its own chunks, and a new chunk size starts over', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-'));
  fs.mkdirSync(path.join(dataDir, 'sources'));
  await query(
    `COPY (SELECT * FROM read_parquet(${sqlString(FLIGHTS)}) LIMIT 10000) TO ${sqlString(path.join(dataDir, 'sources', 'small.parquet'))} (FORMAT parquet)`,
  );
  const db = await openDuckDb();
  const request = (chunkRows: number): IngestRequest => ({
    contract: loadSpec('flights').contract,
    sourceUri: 'sources/small.parquet',
    dataDir,
    acceptedDir: path.join(dataDir, 'staging', 'accepted'),
    deadLetterDir: path.join(dataDir, 'staging', 'dead'),
    workDir: path.join(dataDir, 'work'),
    chunkRows,
  });
  try {
    const crash = new Error('worker lost');
    await assert.rejects(
      ingest(db, request(1000), {
        onChunk: () => {},
        beforeChunk: (i) => {
          if (i === 4) throw crash;
        },
      }),
      (e) => e === crash,
    );
    const resumed = await ingest(db, request(1000), { onChunk: () => {} });
    assert.equal(resumed.resumedFromChunk, 4, 'the four persisted chunks are not read again');
    assert.equal(resumed.stats.rowsRead, 10_000);

    const recut = await ingest(db, request(3000), { onChunk: () => {} });
    assert.equal(recut.resumedFromChunk, 0, 'staging cut into other chunks is discarded, not adopted');
    assert.equal(recut.chunksTotal, 4);
    assert.equal(recut.stats.rowsRead, 10_000);
    assert.equal(recut.stats.rowsAccepted + recut.stats.rowsRejected, 10_000);
  } finally {
    db.closeSync();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
