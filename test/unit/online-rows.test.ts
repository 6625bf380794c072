import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ZodError } from 'zod';
import { prepareRows, type OnlineRow } from '../../src/features/online-store';

const row = (entityKey: string, validFrom: string, values: Record<string, unknown>) =>
  ({ entityKey, validFrom, values }) as OnlineRow;

/** The rows' error, as the schema reports it: its first issue's path (row index, field, key). */
function issuePath(rows: unknown): PropertyKey[] {
  try {
    prepareRows(rows as OnlineRow[]);
  } catch (error) {
    assert.ok(error instanceof ZodError, `a ZodError, got ${String(error)}`);
    return error.issues[0]!.path;
  }
  assert.fail('the rows were accepted');
}

/**
 * prepareRows checks rows without the schema's per-row parse, and hands them to the schema when a check
 * fails: what it accepts, refuses and returns must be what the schema alone gave.
 */
describe('online rows, as the online stores receive them', () => {
  test('are normalised as the schema normalises them: UTC validFrom, unknown fields dropped, values copied', () => {
    const values = { a: 1, b: null, c: -0 };
    const input = [{ ...row('JFK', '2024-01-02T01:00:00+05:00', values), extra: true } as OnlineRow];
    const [out] = prepareRows(input);
    assert.deepEqual(out, {
      entityKey: 'JFK',
      validFrom: '2024-01-01T20:00:00.000Z',
      values: { a: 1, b: null, c: -0 },
    });
    assert.notEqual(out!.values, values, 'a copy, so what is stored is what was checked');
  });

  test('a repeated key keeps the row sequential upserts would leave: the newest validFrom, the later one on a tie', () => {
    const out = prepareRows([
      row('JFK', '2024-01-02T00:00:00Z', { x: 1 }),
      row('JFK', '2024-01-01T00:00:00Z', { x: 2 }),
      row('LAX', '2024-01-01T00:00:00Z', { x: 3 }),
      row('LAX', '2024-01-01T00:00:00Z', { x: 4 }),
    ]);
    assert.deepEqual(
      out.map((r) => [r.entityKey, r.values.x]),
      [
        ['JFK', 1],
        ['LAX', 4],
      ],
    );
  });

  test('a bad row is refused with the schema error naming its index and field', () => {
    const good = row('JFK', '2024-01-01T00:00:00Z', { x: 1 });
    assert.deepEqual(issuePath([good, row('LAX', '2024-01-01T00:00:00Z', { x: NaN })]), [1, 'values', 'x']);
    assert.deepEqual(issuePath([good, row('LAX', '2024-01-01T00:00:00Z', { x: Infinity })]), [1, 'values', 'x']);
    assert.deepEqual(issuePath([good, row('LAX', '2024-01-01T00:00:00Z', { x: '1' })]), [1, 'values', 'x']);
    assert.deepEqual(issuePath([good, row('LAX', 'yesterday', { x: 1 })]), [1, 'validFrom']);
    assert.deepEqual(issuePath([good, row('', '2024-01-01T00:00:00Z', { x: 1 })]), [1, 'entityKey']);
    assert.deepEqual(issuePath([good, row('LAX', '2024-01-01T00:00:00Z', { [Symbol('s')]: 1 })]).slice(0, 2), [
      1,
      'values',
    ]);
    assert.deepEqual(issuePath([good, null]), [1]);
    assert.deepEqual(issuePath(new Set([good])), []);
  });

  test('what the schema drops is dropped: a __proto__ key of parsed JSON', () => {
    const [out] = prepareRows([row('JFK', '2024-01-01T00:00:00Z', JSON.parse('{"__proto__": 1, "x": 2}'))]);
    assert.deepEqual(Object.keys(out!.values), ['x']);
    assert.equal(JSON.stringify(out!.values), '{"x":2}');
  });
});
