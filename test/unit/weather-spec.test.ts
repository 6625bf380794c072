import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadSpec, specNames } from '../../src/specs';
import { featureTransforms } from '../../src/ml/feature-transform';

describe('the weather spec definition', () => {
  it('is registered and parses, with its contract keyed by station and day', () => {
    assert.ok(specNames().includes('weather'));
    const spec = loadSpec('weather');
    assert.equal(spec.defaultSource, 'package:vega-datasets/data/weather.csv');
    assert.deepEqual(
      spec.contract.columns.map((c) => [c.name, c.type]),
      [
        ['location', 'string'],
        ['date', 'date'],
        ['precipitation', 'double'],
        ['temp_max', 'double'],
        ['temp_min', 'double'],
        ['wind', 'double'],
        ['weather', 'string'],
      ],
    );
    assert.equal(spec.contract.eventTime, 'date');
    assert.deepEqual(spec.contract.key, ['location', 'date']);
    assert.deepEqual(spec.contract.references, []);
  });

  it('never lets a prediction request carry what the label is made of', () => {
    const model = loadSpec('weather').model!;
    assert.equal(model.name, 'wet-day');
    assert.match(model.label.sql, /precipitation/);
    for (const leak of ['precipitation', 'weather'])
      assert.ok(!model.servingInput.includes(leak), `${leak} is not a serving input`);
    assert.deepEqual(model.servingInput, ['date', 'location', 'temp_max', 'temp_min', 'wind']);
  });

  it('computes its features from serving inputs and earlier days only', () => {
    const spec = loadSpec('weather');
    const fs = spec.featureSet!;
    const inputs = new Set(spec.model!.servingInput);
    for (const f of fs.features.filter((x) => x.kind === 'event')) {
      const read = spec.contract.columns.map((c) => c.name).filter((name) => new RegExp(`\\b${name}\\b`).test(f.sql));
      for (const name of read)
        assert.ok(inputs.has(name), `event feature ${f.name} reads ${name}, which a request does not carry`);
    }
    // Entity features may aggregate precipitation: only over days before the row's own day.
    for (const f of fs.features.filter((x) => x.kind === 'entity')) {
      assert.equal(f.entity, 'location');
      assert.ok(f.serving && f.serving.default !== null, `${f.name} has a serving default`);
    }
  });

  it('transforms every feature with a fill inside its range', () => {
    const spec = loadSpec('weather');
    for (const t of featureTransforms(spec.featureSet!, spec.model!)) {
      assert.ok(t.fill >= t.min && t.fill <= t.max, `${t.name}: fill ${t.fill} in [${t.min}, ${t.max}]`);
    }
  });
});
