import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { cacheStatements } from '../../src/store/sqlite-statement-cache';

describe('cacheStatements', () => {
  it('returns the statement prepared for the same SQL, which reads the current data on every run', () => {
    const db = new Database(':memory:');
    cacheStatements(db);
    db.exec('CREATE TABLE t (v INTEGER)');
    const count = 'SELECT count(*) AS n FROM t';
    const first = db.prepare(count);
    assert.equal(db.prepare(count), first, 'prepared once');
    assert.deepEqual(db.prepare(count).get(), { n: 0 });
    db.prepare('INSERT INTO t VALUES (?)').run(1);
    db.prepare('INSERT INTO t VALUES (?)').run(2);
    assert.deepEqual(db.prepare(count).get(), { n: 2 });
    db.close();
  });

  it('keeps working after a schema change (SQLite re-prepares the statement)', () => {
    const db = new Database(':memory:');
    cacheStatements(db);
    db.exec('CREATE TABLE t (v INTEGER)');
    db.prepare('INSERT INTO t VALUES (?)').run(7);
    const select = 'SELECT * FROM t';
    assert.deepEqual(db.prepare(select).all(), [{ v: 7 }]);
    db.exec('ALTER TABLE t ADD COLUMN w TEXT');
    assert.deepEqual(db.prepare(select).all(), [{ v: 7, w: null }]);
    db.close();
  });

  it('holds a bounded number of statements, dropping the least recently used', () => {
    const db = new Database(':memory:');
    cacheStatements(db);
    const first = db.prepare('SELECT 0 AS k');
    const kept = db.prepare('SELECT 1 AS k');
    for (let k = 2; k < 300; k++) {
      db.prepare(`SELECT ${k} AS k`);
      if (k % 50 === 0) db.prepare('SELECT 1 AS k'); // used again now and then: stays
    }
    assert.equal(db.prepare('SELECT 1 AS k'), kept);
    assert.notEqual(db.prepare('SELECT 0 AS k'), first, 'dropped long ago, prepared anew');
    assert.deepEqual(db.prepare('SELECT 0 AS k').get(), { k: 0 });
    db.close();
  });
});
