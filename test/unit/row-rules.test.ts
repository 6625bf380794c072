import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DuckDBInstance } from '@duckdb/node-api';
import { openDuckDb, queryRows, sqlString, withConnection } from '../../src/data/duckdb';
import { rowRuleSql } from '../../src/data/row-rules';
import { ContractSchema } from '../../src/specs/contract-schema';

const contract = ContractSchema.parse({
  name: 'tiny',
  version: '1.0.0',
  eventTime: 'at',
  columns: [
    { name: 'at', type: 'timestamp', min: '2001-01-01 00:00:00', max: '2001-12-31 23:59:59' },
    { name: 'id', type: 'integer', min: 1, max: 100 },
    { name: 'score', type: 'double' },
    { name: 'code', type: 'string', allowed: ['AB', 'CD'] },
    { name: 'name', type: 'string', maxLength: 5 },
    { name: 'airport', type: 'string' },
    { name: 'qty', type: 'integer', nullable: true },
    { name: 'comment', type: 'string', nullable: true },
  ],
});

const COLUMNS = ['at', 'id', 'score', 'code', 'name', 'airport', 'qty', 'comment'] as const;
type Col = (typeof COLUMNS)[number];
type RawRow = Record<Col, string | null>;

const GOOD: RawRow = {
  at: '2001-03-04 10:00:00',
  id: '12',
  score: '1.5',
  code: 'AB',
  name: 'alice',
  airport: 'ORD',
  qty: '3',
  comment: 'hi',
};

interface Reason {
  column: string;
  rule: string;
  value: string | null;
}

interface Result {
  label: string;
  bad: boolean;
  reasons: Reason[];
  [column: string]: unknown;
}

/** label -> raw values; every row starts from GOOD with the listed overrides. */
const TEXT_ROWS: Record<string, Partial<RawRow>> = {
  ok: {},
  ok_padded: { id: ' 12 ', score: ' 2.5 ' },
  ok_bounds_low: { id: '1', at: '2001-01-01 00:00:00' },
  ok_bounds_high: { id: '100', at: '2001-12-31 23:59:59' },
  ok_nullable_empty: { qty: '', comment: '' },
  ok_nullable_null: { qty: null, comment: null },
  ok_negative_sign: { id: '+50', score: '-3' },
  int_decimal: { id: '1.5' },
  int_text: { id: 'abc' },
  empty_id: { id: '' },
  blank_id: { id: '   ' },
  null_id: { id: null },
  empty_name: { name: '' },
  nan: { score: 'NaN' },
  inf: { score: 'Infinity' },
  neg_inf: { score: '-inf' },
  double_text: { score: 'lots' },
  id_low: { id: '0' },
  id_high: { id: '101' },
  at_early: { at: '2000-12-31 23:59:59' },
  at_bad: { at: 'yesterday' },
  not_allowed: { code: 'ZZ' },
  too_long: { name: 'abcdefg' },
  missing_ref: { airport: 'XXX' },
  nullable_int_bad: { qty: '2.5' },
  two_problems: { id: '1.5', code: 'ZZ' },
};

let db: DuckDBInstance;
const references = new Map([['airport', { table: 'ref_airport' }]]);

before(async () => {
  db = await openDuckDb({ memoryLimit: '256MB', threads: 1 });
});

after(() => {
  db.closeSync();
});

function literal(value: string | null): string {
  return value === null ? 'NULL' : sqlString(value);
}

/** Runs the rule SQL over raw text rows for real and returns the rows by label. */
async function runText(rows: Record<string, Partial<RawRow>>): Promise<Map<string, Result>> {
  const rules = rowRuleSql(contract, true, references);
  return withConnection(db, async (conn) => {
    await conn.run(`CREATE TEMP TABLE raw (label VARCHAR, ${COLUMNS.map((c) => `"${c}" VARCHAR`).join(', ')})`);
    const values = Object.entries(rows).map(([label, overrides]) => {
      const row = { ...GOOD, ...overrides };
      return `(${[sqlString(label), ...COLUMNS.map((c) => literal(row[c]))].join(', ')})`;
    });
    await conn.run(`INSERT INTO raw VALUES ${values.join(', ')}`);
    await conn.run(`CREATE TEMP TABLE ref_airport AS SELECT * FROM (VALUES ('ORD'), ('SFO')) t(v)`);
    const result = await queryRows<Result>(
      conn,
      `SELECT *, ${rules.rejected} AS bad, ${rules.reasons} AS reasons FROM (SELECT label, ${rules.typedColumns} FROM raw)`,
    );
    return new Map(result.map((r) => [r.label, r]));
  });
}

describe('rowRuleSql on raw text (text = true)', () => {
  let rows: Map<string, Result>;

  before(async () => {
    rows = await runText(TEXT_ROWS);
  });

  function row(label: string): Result {
    const found = rows.get(label);
    assert.ok(found, `row ${label} missing from the result`);
    return found;
  }

  /** [column, rule] pairs of a row's reasons, in the order the rules list them. */
  function rules(label: string): [string, string][] {
    return row(label).reasons.map((r) => [r.column, r.rule]);
  }

  function assertAccepted(label: string): void {
    const r = row(label);
    assert.equal(r.bad, false, `${label}: ${JSON.stringify(r.reasons)}`);
    assert.deepEqual(r.reasons, []);
  }

  function assertRejected(label: string, expected: [string, string][]): void {
    const r = row(label);
    assert.equal(r.bad, true, `${label} should be rejected`);
    assert.deepEqual(rules(label), expected, label);
  }

  it('returns every row it was given', () => {
    assert.equal(rows.size, Object.keys(TEXT_ROWS).length);
  });

  it("accepts '12' into an integer and types every column", () => {
    assertAccepted('ok');
    const r = row('ok');
    assert.equal(r.id, 12);
    assert.equal(r.score, 1.5);
    assert.equal(r.code, 'AB');
    assert.equal(r.qty, 3);
    assert.ok(r.at instanceof Date);
    assert.equal((r.at as Date).toISOString(), '2001-03-04T10:00:00.000Z');
    // The raw text travels along for the dead letters.
    assert.equal(r.id__raw, '12');
  });

  it('trims surrounding whitespace and accepts signs', () => {
    assertAccepted('ok_padded');
    assert.equal(row('ok_padded').id, 12);
    assert.equal(row('ok_padded').score, 2.5);
    assert.equal(row('ok_padded').id__raw, ' 12 ');
    assertAccepted('ok_negative_sign');
    assert.equal(row('ok_negative_sign').id, 50);
    assert.equal(row('ok_negative_sign').score, -3);
  });

  it('treats min and max as inclusive bounds', () => {
    assertAccepted('ok_bounds_low');
    assertAccepted('ok_bounds_high');
  });

  it("rejects '1.5' into an integer with rule 'type' instead of rounding it", () => {
    assertRejected('int_decimal', [['id', 'type']]);
    assert.equal(row('int_decimal').id, null, 'an integer column must not receive a rounded 2');
    assert.equal(row('int_decimal').reasons[0]!.value, '1.5');
    assertRejected('int_text', [['id', 'type']]);
    assertRejected('double_text', [['score', 'type']]);
    assertRejected('at_bad', [['at', 'type']]);
    assert.equal(row('at_bad').reasons[0]!.value, 'yesterday');
  });

  it("rejects an empty, blank or NULL value in a non-nullable column with 'not_null' only", () => {
    assertRejected('empty_id', [['id', 'not_null']]);
    assertRejected('blank_id', [['id', 'not_null']]);
    assertRejected('null_id', [['id', 'not_null']]);
    assert.equal(row('null_id').reasons[0]!.value, null);
    assert.deepEqual(rules('empty_name'), [['name', 'not_null']]);
  });

  it("rejects NaN and +/-Infinity in a double column with 'finite'", () => {
    for (const label of ['nan', 'inf', 'neg_inf']) assertRejected(label, [['score', 'finite']]);
  });

  it("rejects values outside [min, max] with 'range', naming the value", () => {
    assertRejected('id_low', [['id', 'range']]);
    assert.equal(row('id_low').reasons[0]!.value, '0');
    assertRejected('id_high', [['id', 'range']]);
    assert.equal(row('id_high').reasons[0]!.value, '101');
    assertRejected('at_early', [['at', 'range']]);
  });

  it("rejects a value outside the allowed set with 'allowed'", () => {
    assertRejected('not_allowed', [['code', 'allowed']]);
    assert.equal(row('not_allowed').reasons[0]!.value, 'ZZ');
  });

  it("rejects a string longer than maxLength with 'max_length' (exactly maxLength is fine)", () => {
    assertRejected('too_long', [['name', 'max_length']]);
    assert.equal(row('too_long').reasons[0]!.value, 'abcdefg');
    assert.equal(row('ok').name, 'alice'); // five characters, accepted above
  });

  it("rejects a value missing from the reference table with 'reference'", () => {
    assertRejected('missing_ref', [['airport', 'reference']]);
    assert.equal(row('missing_ref').reasons[0]!.value, 'XXX');
  });

  it('accepts NULL and empty values in nullable columns', () => {
    assertAccepted('ok_nullable_null');
    assert.equal(row('ok_nullable_null').qty, null);
    assert.equal(row('ok_nullable_null').comment, null);
    assertAccepted('ok_nullable_empty');
    assert.equal(row('ok_nullable_empty').qty, null);
  });

  it('still type-checks a present value in a nullable column', () => {
    assertRejected('nullable_int_bad', [['qty', 'type']]);
  });

  it('lists every reason of a row with two problems', () => {
    assertRejected('two_problems', [
      ['id', 'type'],
      ['code', 'allowed'],
    ]);
    assert.deepEqual(
      row('two_problems').reasons.map((r) => r.value),
      ['1.5', 'ZZ'],
    );
  });

  it('truncates the reported value to 200 characters', async () => {
    const long = 'x'.repeat(500);
    const result = await runText({ long: { name: long } });
    const reasons = result.get('long')!.reasons;
    assert.deepEqual(
      reasons.map((r) => [r.column, r.rule]),
      [['name', 'max_length']],
    );
    assert.equal(reasons[0]!.value, 'x'.repeat(200));
  });
});

describe('reference rules from a pre-computed list of unknown values', () => {
  it('rejects exactly the listed values, without a join', async () => {
    const rules = rowRuleSql(contract, false, new Map([['airport', { unknown: ['XXX'] }]]));
    assert.doesNotMatch(rules.rejected, /SELECT/);
    const rows = await withConnection(db, (conn) =>
      queryRows<{ airport: string; bad: boolean; reasons: Reason[] }>(
        conn,
        `SELECT airport, ${rules.rejected} AS bad, ${rules.reasons} AS reasons FROM (SELECT 12 AS id, TIMESTAMP '2001-03-04 10:00:00' AS "at", 1.5 AS score, 'AB' AS code, 'al' AS name, airport, 3 AS qty, NULL AS comment FROM (VALUES ('ORD'), ('XXX')) t(airport)) ORDER BY airport`,
      ),
    );
    assert.deepEqual(
      rows.map((r) => [r.airport, r.bad, r.reasons.map((x) => x.rule)]),
      [
        ['ORD', false, []],
        ['XXX', true, ['reference']],
      ],
    );
  });

  it('adds no rule when the pre-pass found no unknown value', () => {
    const rules = rowRuleSql(contract, false, new Map([['airport', { unknown: [] }]]));
    assert.doesNotMatch(rules.reasons, /'reference'/);
  });
});

describe('rowRuleSql on typed columns (text = false)', () => {
  it('casts instead of parsing text and adds no raw columns', () => {
    const rules = rowRuleSql(contract, false, references);
    assert.doesNotMatch(rules.typedColumns, /__raw/);
    assert.match(rules.typedColumns, /"id"::BIGINT AS "id"/);
    assert.match(rules.typedColumns, /"at"::TIMESTAMP AS "at"/);
  });

  it('applies every rule except type to a typed table', async () => {
    const rules = rowRuleSql(contract, false, references);
    const result = await withConnection(db, async (conn) => {
      await conn.run(`CREATE TEMP TABLE typed (
        label VARCHAR, "at" TIMESTAMP, "id" INTEGER, "score" DOUBLE, "code" VARCHAR, "name" VARCHAR,
        "airport" VARCHAR, "qty" BIGINT, "comment" VARCHAR)`);
      await conn.run(`INSERT INTO typed VALUES
        ('ok',          TIMESTAMP '2001-03-04 10:00:00', 12,   1.5,            'AB', 'alice',   'ORD', 3,    'hi'),
        ('nullable',    TIMESTAMP '2001-03-04 10:00:00', 12,   1.5,            'CD', 'bob',     'SFO', NULL, NULL),
        ('null_id',     TIMESTAMP '2001-03-04 10:00:00', NULL, 1.5,            'AB', 'alice',   'ORD', 3,    'hi'),
        ('null_at',     NULL,                            12,   1.5,            'AB', 'alice',   'ORD', 3,    'hi'),
        ('nan',         TIMESTAMP '2001-03-04 10:00:00', 12,   'NaN'::DOUBLE,  'AB', 'alice',   'ORD', 3,    'hi'),
        ('inf',         TIMESTAMP '2001-03-04 10:00:00', 12,   'inf'::DOUBLE,  'AB', 'alice',   'ORD', 3,    'hi'),
        ('id_high',     TIMESTAMP '2001-03-04 10:00:00', 500,  1.5,            'AB', 'alice',   'ORD', 3,    'hi'),
        ('at_late',     TIMESTAMP '2002-01-01 00:00:00', 12,   1.5,            'AB', 'alice',   'ORD', 3,    'hi'),
        ('not_allowed', TIMESTAMP '2001-03-04 10:00:00', 12,   1.5,            'ZZ', 'alice',   'ORD', 3,    'hi'),
        ('too_long',    TIMESTAMP '2001-03-04 10:00:00', 12,   1.5,            'AB', 'abcdefg', 'ORD', 3,    'hi'),
        ('missing_ref', TIMESTAMP '2001-03-04 10:00:00', 12,   1.5,            'AB', 'alice',   'XXX', 3,    'hi'),
        ('two',         TIMESTAMP '2001-03-04 10:00:00', 0,    1.5,            'AB', 'alice',   'XXX', 3,    'hi')`);
      await conn.run(`CREATE TEMP TABLE ref_airport AS SELECT * FROM (VALUES ('ORD'), ('SFO')) t(v)`);
      return queryRows<Result>(
        conn,
        `SELECT *, ${rules.rejected} AS bad, ${rules.reasons} AS reasons FROM (SELECT label, ${rules.typedColumns} FROM typed)`,
      );
    });
    const byLabel = new Map(result.map((r) => [r.label, r]));
    const got = (label: string) => {
      const r = byLabel.get(label);
      assert.ok(r, `row ${label} missing`);
      return { bad: r.bad, rules: r.reasons.map((x) => [x.column, x.rule]) };
    };
    assert.deepEqual(got('ok'), { bad: false, rules: [] });
    assert.equal(byLabel.get('ok')!.id, 12);
    assert.deepEqual(got('nullable'), { bad: false, rules: [] });
    assert.deepEqual(got('null_id'), { bad: true, rules: [['id', 'not_null']] });
    assert.deepEqual(got('null_at'), { bad: true, rules: [['at', 'not_null']] });
    assert.deepEqual(got('nan'), { bad: true, rules: [['score', 'finite']] });
    assert.deepEqual(got('inf'), { bad: true, rules: [['score', 'finite']] });
    assert.deepEqual(got('id_high'), { bad: true, rules: [['id', 'range']] });
    assert.deepEqual(got('at_late'), { bad: true, rules: [['at', 'range']] });
    assert.deepEqual(got('not_allowed'), { bad: true, rules: [['code', 'allowed']] });
    assert.deepEqual(got('too_long'), { bad: true, rules: [['name', 'max_length']] });
    assert.deepEqual(got('missing_ref'), { bad: true, rules: [['airport', 'reference']] });
    assert.deepEqual(got('two'), {
      bad: true,
      rules: [
        ['id', 'range'],
        ['airport', 'reference'],
      ],
    });
    assert.ok(
      result.every((r) => r.reasons.every((x) => x.rule !== 'type')),
      'typed sources have no type rule',
    );
  });

  it('produces valid SQL when a contract has no rules at all', async () => {
    const bare = ContractSchema.parse({
      name: 'bare',
      version: '1.0.0',
      eventTime: 't',
      columns: [{ name: 't', type: 'timestamp', nullable: true }],
    });
    const rules = rowRuleSql(bare, false, new Map());
    assert.equal(rules.rejected, 'false');
    const result = await withConnection(db, (conn) =>
      queryRows<Result>(
        conn,
        `SELECT *, ${rules.rejected} AS bad, ${rules.reasons} AS reasons
         FROM (SELECT ${rules.typedColumns} FROM (VALUES (TIMESTAMP '2001-01-01 00:00:00'), (NULL)) v(t))`,
      ),
    );
    assert.equal(result.length, 2);
    for (const r of result) {
      assert.equal(r.bad, false);
      assert.deepEqual(r.reasons, []);
    }
  });
});
