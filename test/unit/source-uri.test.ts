import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SourceUriError, confineToDataDir, resolveSourceUri } from '../../src/data/source-uri';

let dataDir: string;

before(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlpipe-source-uri-'));
  for (const name of ['b-2001.csv', 'a-2001.csv', 'c-2001.csv', 'notes.txt', 'z-2002.csv']) {
    fs.writeFileSync(path.join(dataDir, name), 'x\n1\n');
  }
  fs.mkdirSync(path.join(dataDir, 'nested', 'deeper'), { recursive: true });
  fs.writeFileSync(path.join(dataDir, 'nested', 'deeper', 'rows.jsonl'), '{"x":1}\n');
  fs.mkdirSync(path.join(dataDir, 'dir.csv'));
});

after(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function isSourceUriError(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof SourceUriError, `expected a SourceUriError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  };
}

describe('confineToDataDir', () => {
  it('refuses a path that climbs out with ..', () => {
    assert.throws(() => confineToDataDir('../x.csv', dataDir), isSourceUriError(/outside the data directory/));
    assert.throws(
      () => confineToDataDir('nested/../../x.csv', dataDir),
      isSourceUriError(/outside the data directory/),
    );
    assert.throws(() => confineToDataDir('..', dataDir), SourceUriError);
  });

  it('refuses an absolute path outside the data directory', () => {
    assert.throws(() => confineToDataDir('/etc/passwd', dataDir), isSourceUriError(/path \/etc\/passwd is outside/));
    assert.throws(() => confineToDataDir('file:/etc/passwd', dataDir), SourceUriError);
    // A sibling whose name merely starts with the data dir's name is still outside.
    assert.throws(() => confineToDataDir(`${dataDir}-evil/x.csv`, dataDir), SourceUriError);
  });

  it('accepts nested relative paths and returns them absolute inside the data dir', () => {
    assert.equal(
      confineToDataDir('nested/deeper/rows.jsonl', dataDir),
      path.join(dataDir, 'nested', 'deeper', 'rows.jsonl'),
    );
    assert.equal(confineToDataDir('nested/../a.csv', dataDir), path.join(dataDir, 'a.csv'));
    assert.equal(confineToDataDir('file:nested/x.csv', dataDir), path.join(dataDir, 'nested', 'x.csv'));
  });

  it('accepts an absolute path that is inside the data dir', () => {
    const inside = path.join(dataDir, 'nested', 'x.csv');
    assert.equal(confineToDataDir(inside, dataDir), inside);
  });
});

describe('resolveSourceUri: files', () => {
  it('resolves the bundled package:vega-datasets flights file', async () => {
    const ref = await resolveSourceUri('package:vega-datasets/data/flights-3m.parquet', dataDir);
    assert.equal(ref.format, 'parquet');
    assert.ok('files' in ref);
    assert.equal(ref.files.length, 1);
    assert.ok(path.isAbsolute(ref.files[0]!));
    assert.ok(ref.files[0]!.endsWith(path.join('vega-datasets', 'data', 'flights-3m.parquet')));
    assert.ok(fs.statSync(ref.files[0]!).isFile());
    assert.equal(ref.uri, 'package:vega-datasets/data/flights-3m.parquet');
  });

  it('expands a glob in the data dir to its matches in sorted order', async () => {
    const ref = await resolveSourceUri('*-2001.csv', dataDir);
    assert.equal(ref.format, 'csv');
    assert.ok('files' in ref);
    assert.deepEqual(
      ref.files,
      ['a-2001.csv', 'b-2001.csv', 'c-2001.csv'].map((n) => path.join(dataDir, n)),
    );
  });

  it('resolves a single nested file and recognises .jsonl', async () => {
    const ref = await resolveSourceUri('nested/deeper/rows.jsonl', dataDir);
    assert.equal(ref.format, 'jsonl');
    assert.ok('files' in ref);
    assert.deepEqual(ref.files, [path.join(dataDir, 'nested', 'deeper', 'rows.jsonl')]);
  });

  it('refuses unsupported extensions even when the file exists', async () => {
    await assert.rejects(resolveSourceUri('notes.txt', dataDir), isSourceUriError(/unsupported source format "\.txt"/));
    await assert.rejects(
      resolveSourceUri('package:vega-datasets/package.json', dataDir),
      isSourceUriError(/unsupported source format "\.json"/),
    );
  });

  it('refuses package: URIs containing .. or lacking a file', async () => {
    await assert.rejects(
      resolveSourceUri('package:vega-datasets/../../etc/x.csv', dataDir),
      isSourceUriError(/malformed package URI/),
    );
    await assert.rejects(
      resolveSourceUri('package:vega-datasets/data/../../x.csv', dataDir),
      isSourceUriError(/malformed package URI/),
    );
    await assert.rejects(resolveSourceUri('package:vega-datasets', dataDir), isSourceUriError(/malformed package URI/));
  });

  it('says so when a package is not installed', async () => {
    await assert.rejects(
      resolveSourceUri('package:mlpipe-no-such-package-xyz/a.csv', dataDir),
      isSourceUriError(/not installed/),
    );
  });

  it('refuses paths outside the data dir', async () => {
    await assert.rejects(resolveSourceUri('../outside.csv', dataDir), isSourceUriError(/outside the data directory/));
  });

  it('errors clearly when nothing matches, naming the URI', async () => {
    await assert.rejects(
      resolveSourceUri('missing-*.csv', dataDir),
      isSourceUriError(/^no file matches missing-\*\.csv$/),
    );
    await assert.rejects(
      resolveSourceUri('absent.parquet', dataDir),
      isSourceUriError(/no file matches absent\.parquet/),
    );
    // A directory named like a file is not a file.
    await assert.rejects(resolveSourceUri('dir.csv', dataDir), isSourceUriError(/no file matches dir\.csv/));
  });

  it('refuses a glob in a directory name', async () => {
    await assert.rejects(
      resolveSourceUri('nest*/deeper/rows.jsonl', dataDir),
      isSourceUriError(/only appear in the file name/),
    );
  });
});

describe('resolveSourceUri: PostgreSQL', () => {
  it('parses table, orderBy and a connection URL without the query parameters', async () => {
    const uri = 'postgresql://u:p@h:5432/db?table=public.flights&orderBy=id';
    const ref = await resolveSourceUri(uri, dataDir);
    assert.equal(ref.format, 'postgres');
    assert.ok('table' in ref);
    assert.equal(ref.uri, uri);
    assert.equal(ref.table, 'public.flights');
    assert.deepEqual(ref.orderBy, ['id']);
    assert.equal(ref.connectionUrl, 'postgresql://u:p@h:5432/db');
  });

  it('keeps other query parameters, accepts postgres://, splits orderBy on commas', async () => {
    const ref = await resolveSourceUri('postgres://u@h/db?sslmode=require&table=flights&orderBy=date,origin', dataDir);
    assert.ok('table' in ref);
    assert.equal(ref.table, 'flights');
    assert.deepEqual(ref.orderBy, ['date', 'origin']);
    assert.equal(ref.connectionUrl, 'postgres://u@h/db?sslmode=require');
  });

  it('defaults orderBy to an empty list', async () => {
    const ref = await resolveSourceUri('postgresql://u@h/db?table=flights', dataDir);
    assert.ok('orderBy' in ref);
    assert.deepEqual(ref.orderBy, []);
  });

  it('refuses a table name with SQL in it, or no table at all', async () => {
    for (const table of ['public.flights;DROP TABLE x', 'flights--', 'a.b.c', '"flights"', '1flights']) {
      const uri = `postgresql://u:p@h:5432/db?table=${encodeURIComponent(table)}`;
      await assert.rejects(resolveSourceUri(uri, dataDir), isSourceUriError(/needs \?table=<schema\.table>/), table);
    }
    await assert.rejects(resolveSourceUri('postgresql://u:p@h:5432/db', dataDir), isSourceUriError(/needs \?table=/));
  });

  it('takes one day of a column (a night of a daily dataset), both parameters or neither', async () => {
    const ref = await resolveSourceUri('postgresql://u@h/db?table=flights&day=2001-01-05&dayColumn=date', dataDir);
    assert.ok('day' in ref);
    assert.deepEqual(ref.day, { column: 'date', value: '2001-01-05' });
    assert.equal(ref.connectionUrl, 'postgresql://u@h/db');
    for (const params of [
      'day=2001-01-05',
      'dayColumn=date',
      'day=2001-02-30&dayColumn=date',
      'day=2001-01-05&dayColumn=d;x',
    ]) {
      await assert.rejects(
        resolveSourceUri(`postgresql://u@h/db?table=flights&${params}`, dataDir),
        isSourceUriError(/a day of a PostgreSQL table is \?day=YYYY-MM-DD&dayColumn=<column>/),
        params,
      );
    }
  });
});
