import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareSchema, type SourceColumn } from '../../src/data/schema-drift';
import { loadSpec } from '../../src/specs';

const contract = loadSpec('flights').contract;

/** The flights file as DESCRIBE reports a Parquet source that matches the contract. */
function typedSource(): SourceColumn[] {
  return [
    { name: 'date', type: 'TIMESTAMP' },
    { name: 'delay', type: 'BIGINT' },
    { name: 'distance', type: 'INTEGER' },
    { name: 'origin', type: 'VARCHAR' },
    { name: 'destination', type: 'VARCHAR' },
  ];
}

function textSource(): SourceColumn[] {
  return contract.columns.map((c) => ({ name: c.name, type: 'TEXT' }));
}

describe('compareSchema', () => {
  it('finds no difference for an identical schema', () => {
    assert.deepEqual(compareSchema(contract, typedSource()), []);
  });

  it('finds no difference when the columns come in another order', () => {
    assert.deepEqual(compareSchema(contract, typedSource().reverse()), []);
  });

  it('reports a renamed column as "renamed", naming both names', () => {
    const source = typedSource().map((c) => (c.name === 'destination' ? { ...c, name: 'dest' } : c));
    const diffs = compareSchema(contract, source);
    assert.equal(diffs.length, 1, JSON.stringify(diffs));
    assert.equal(diffs[0]!.change, 'renamed');
    assert.equal(diffs[0]!.column, 'destination');
    assert.match(diffs[0]!.detail, /destination -> dest\?/);
    assert.match(diffs[0]!.detail, /\bdest is new\b/);
  });

  it('reports a renamed column in a text source (every type TEXT) as "renamed"', () => {
    const source = textSource().map((c) => (c.name === 'delay' ? { ...c, name: 'arr_delay' } : c));
    const diffs = compareSchema(contract, source);
    assert.deepEqual(
      diffs.map((d) => [d.change, d.column]),
      [['renamed', 'delay']],
    );
    assert.match(diffs[0]!.detail, /delay -> arr_delay/);
  });

  it('reports a removed column as "missing"', () => {
    const diffs = compareSchema(
      contract,
      typedSource().filter((c) => c.name !== 'distance'),
    );
    assert.equal(diffs.length, 1, JSON.stringify(diffs));
    assert.equal(diffs[0]!.change, 'missing');
    assert.equal(diffs[0]!.column, 'distance');
    assert.match(diffs[0]!.detail, /distance \(integer\) is missing/);
  });

  it('reports an extra column as "added", naming the contract', () => {
    const diffs = compareSchema(contract, [...typedSource(), { name: 'carrier', type: 'VARCHAR' }]);
    assert.equal(diffs.length, 1, JSON.stringify(diffs));
    assert.equal(diffs[0]!.change, 'added');
    assert.equal(diffs[0]!.column, 'carrier');
    assert.match(diffs[0]!.detail, /carrier \(VARCHAR\) is not in contract flights 1\.0\.0/);
  });

  it('does not pair a missing column with an added column of an incompatible type', () => {
    // distance is an integer; a VARCHAR newcomer is not a plausible rename of it.
    const source = [...typedSource().filter((c) => c.name !== 'distance'), { name: 'notes', type: 'VARCHAR' }];
    const diffs = compareSchema(contract, source);
    assert.deepEqual(diffs.map((d) => [d.change, d.column]).sort(), [
      ['added', 'notes'],
      ['missing', 'distance'],
    ]);
  });

  it('reports an integer column offered as VARCHAR as "retyped"', () => {
    const source = typedSource().map((c) => (c.name === 'delay' ? { ...c, type: 'VARCHAR' } : c));
    const diffs = compareSchema(contract, source);
    assert.equal(diffs.length, 1, JSON.stringify(diffs));
    assert.equal(diffs[0]!.change, 'retyped');
    assert.equal(diffs[0]!.column, 'delay');
    assert.match(diffs[0]!.detail, /contract says integer, source has VARCHAR/);
  });

  it('reports an integer column offered as DOUBLE as "retyped" (it would lose meaning)', () => {
    const source = typedSource().map((c) => (c.name === 'distance' ? { ...c, type: 'DOUBLE' } : c));
    assert.deepEqual(
      compareSchema(contract, source).map((d) => [d.change, d.column]),
      [['retyped', 'distance']],
    );
  });

  it('accepts compatible types: DATE for a timestamp, any integer width for an integer', () => {
    const source: SourceColumn[] = [
      { name: 'date', type: 'DATE' },
      { name: 'delay', type: 'SMALLINT' },
      { name: 'distance', type: 'UINTEGER' },
      { name: 'origin', type: 'VARCHAR' },
      { name: 'destination', type: 'VARCHAR' },
    ];
    assert.deepEqual(compareSchema(contract, source), []);
  });

  it('never reports TEXT columns (text sources) as "retyped"', () => {
    assert.deepEqual(compareSchema(contract, textSource()), []);
    const diffs = compareSchema(contract, [...textSource(), { name: 'extra', type: 'TEXT' }]);
    assert.ok(
      diffs.every((d) => d.change !== 'retyped'),
      JSON.stringify(diffs),
    );
    assert.deepEqual(
      diffs.map((d) => [d.change, d.column]),
      [['added', 'extra']],
    );
  });

  it('reports a duplicated column name once as "duplicate"', () => {
    const diffs = compareSchema(contract, [...typedSource(), { name: 'origin', type: 'VARCHAR' }]);
    const duplicates = diffs.filter((d) => d.change === 'duplicate');
    assert.equal(duplicates.length, 1, JSON.stringify(diffs));
    assert.equal(duplicates[0]!.column, 'origin');
    assert.match(duplicates[0]!.detail, /origin appears more than once/);
  });

  it('reports several problems together', () => {
    const source: SourceColumn[] = [
      { name: 'date', type: 'TIMESTAMP' },
      { name: 'delay', type: 'VARCHAR' },
      { name: 'origin', type: 'VARCHAR' },
      { name: 'origin', type: 'VARCHAR' },
      { name: 'dest', type: 'VARCHAR' },
    ];
    const diffs = compareSchema(contract, source)
      .map((d) => `${d.change}:${d.column}`)
      .sort();
    assert.deepEqual(diffs, ['duplicate:origin', 'missing:distance', 'renamed:destination', 'retyped:delay']);
  });
});
