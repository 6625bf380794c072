import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadSpec, parseSpec, specNames } from '../../src/specs';
import { flightsSpec } from '../../src/specs/flights';
import { ContractSchema } from '../../src/specs/contract-schema';

/** A deep, loosely typed copy of the flights spec to break on purpose. */
type Loose = any;
function flights(): Loose {
  return structuredClone(flightsSpec);
}

function assertInvalid(input: unknown, ...patterns: RegExp[]): void {
  assert.throws(
    () => parseSpec(input),
    (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /^invalid spec: /);
      for (const pattern of patterns) assert.match(error.message, pattern);
      return true;
    },
  );
}

describe('the flights spec', () => {
  it('parses and applies defaults', () => {
    const spec = loadSpec('flights');
    assert.equal(spec.name, 'flights');
    assert.equal(spec.version, '1.0.0');
    assert.equal(spec.defaultSource, 'package:vega-datasets/data/flights-3m.parquet');
    assert.equal(spec.chunkRows, 1_000_000);
    assert.deepEqual(
      spec.contract.columns.map((c) => [c.name, c.type, c.nullable]),
      [
        ['date', 'timestamp', false],
        ['delay', 'integer', false],
        ['distance', 'integer', false],
        ['origin', 'string', false],
        ['destination', 'string', false],
      ],
    );
    assert.equal(spec.contract.eventTime, 'date');
    assert.deepEqual(spec.contract.key, ['date', 'origin', 'destination']);
    assert.equal(spec.contract.references[0]!.severity, 'blocking');
    assert.equal(spec.contract.gates.distribution?.severity, 'warning');
    assert.equal(spec.contract.gates.rejectRate?.max, 0.001);
    assert.deepEqual(spec.contract.gates.completeness?.columns, {});
  });

  it('is listed by specNames and parseSpec gives the same result as loadSpec', () => {
    assert.ok(specNames().includes('flights'));
    assert.deepEqual(parseSpec(flights()), loadSpec('flights'));
  });

  it('does not let a caller mutate the registry through a loaded spec', () => {
    const first = loadSpec('flights');
    first.contract.columns.pop();
    assert.equal(loadSpec('flights').contract.columns.length, 5);
  });
});

describe('parseSpec refusals', () => {
  it('refuses an event time column that is not declared', () => {
    const spec = flights();
    spec.contract.eventTime = 'departed_at';
    assertInvalid(spec, /contract: column departed_at is referenced but not declared/);
  });

  it('refuses an event time column that is not a timestamp or date', () => {
    const spec = flights();
    spec.contract.eventTime = 'delay';
    assertInvalid(spec, /contract: event time column delay must be a timestamp or date/);
  });

  it('refuses a duplicate column', () => {
    const spec = flights();
    spec.contract.columns.push({ name: 'delay', type: 'integer' });
    assertInvalid(spec, /contract: duplicate column delay/);
  });

  it('refuses a bad version string in the spec and in the contract', () => {
    const spec = flights();
    spec.version = '1.0';
    assertInvalid(spec, /(^|; |: )version: must be a semantic version/);

    const contract = flights();
    contract.contract.version = 'v1.0.0';
    assertInvalid(contract, /contract\.version: must be a semantic version/);
  });

  it('refuses a negative reject-rate threshold', () => {
    const spec = flights();
    spec.contract.gates.rejectRate.max = -0.01;
    assertInvalid(spec, /contract\.gates\.rejectRate\.max: /);
  });

  it('refuses a reject-rate threshold above 1', () => {
    const spec = flights();
    spec.contract.gates.rejectRate.max = 1.5;
    assertInvalid(spec, /contract\.gates\.rejectRate\.max: /);
  });

  it('refuses an unknown gate key (gates are strict)', () => {
    const spec = flights();
    spec.contract.gates.rowCount = { min: 1 };
    assertInvalid(spec, /contract\.gates: Unrecognized key: "rowCount"/);
  });

  it('refuses an unknown key inside a gate and at the top level', () => {
    const inGate = flights();
    inGate.contract.gates.freshness.maxAgeDays = 2;
    assertInvalid(inGate, /contract\.gates\.freshness: Unrecognized key: "maxAgeDays"/);

    const top = flights();
    top.schedule = '@daily';
    assertInvalid(top, /Unrecognized key: "schedule"/);
  });

  it('refuses a reference to an undeclared column', () => {
    const spec = flights();
    spec.contract.references[0].columns = ['origin', 'gate'];
    assertInvalid(spec, /contract: column gate is referenced but not declared/);
  });

  it('refuses undeclared columns in the key and in the distribution gate', () => {
    const key = flights();
    key.contract.key = ['date', 'carrier'];
    assertInvalid(key, /column carrier is referenced but not declared/);

    const distribution = flights();
    distribution.contract.gates.distribution.columns = ['delay', 'taxi_out'];
    assertInvalid(distribution, /column taxi_out is referenced but not declared/);
  });

  it('names the path of a bad column field', () => {
    const spec = flights();
    spec.contract.columns[1].type = 'int';
    assertInvalid(spec, /contract\.columns\.1\.type: /);

    const name = flights();
    name.contract.columns[3].name = 'origin code';
    assertInvalid(name, /contract\.columns\.3\.name: must be a plain identifier/);
  });

  it('refuses a spec name that is not lower-case with dashes', () => {
    const spec = flights();
    spec.name = 'Flights_V2';
    assertInvalid(spec, /name: must be lower-case letters, digits and dashes/);
  });

  it('ContractSchema alone accepts a minimal contract and applies defaults', () => {
    const contract = ContractSchema.parse({
      name: 'tiny',
      version: '0.1.0',
      eventTime: 'at',
      columns: [{ name: 'at', type: 'date' }],
    });
    assert.deepEqual(contract.key, []);
    assert.deepEqual(contract.references, []);
    assert.deepEqual(contract.gates, {});
    assert.equal(contract.columns[0]!.nullable, false);
  });
});

describe('loadSpec', () => {
  it('refuses an unknown spec, naming the known ones', () => {
    assert.throws(() => loadSpec('nope'), /unknown spec "nope" \(known: .*\bflights\b.*\)/);
  });
});
