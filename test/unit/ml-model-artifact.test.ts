import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { predict, train } from '../../src/ml/logistic-regression';
import { evaluate } from '../../src/ml/metrics';
import { ModelArtifactSchema, scoreColumns, type LogisticArtifact } from '../../src/ml/model-artifact';
import { openScorer, scoreFeatureRows } from '../../src/ml/scorer';
import { Standardizer } from '../../src/ml/standardizer';
import { syntheticFlights } from './ml-fixtures';

const FEATURES = ['dep_hour', 'log_distance', 'origin_delay_share', 'origin_flights', 'is_weekend', 'centered'];

/** Trains on synthetic data with 10% missing values and serializes the artifact as JSON text. */
async function trainedArtifact() {
  const rows = 5_000;
  const data = syntheticFlights(rows, 11, 0.1);
  const standardizer = Standardizer.fit(data.columns, rows);
  const x = standardizer.transform(data.columns, rows);
  const hyperParameters = { l2: 1e-3, maxIterations: 25, tolerance: 1e-12 };
  const model = await train({ columns: x, labels: data.labels }, hyperParameters);
  const artifact: LogisticArtifact = {
    kind: 'logistic-regression',
    features: FEATURES,
    standardizer: standardizer.toJSON(),
    weights: model.weights,
    intercept: model.intercept,
    threshold: 0.35,
    trainedAt: '2024-05-01T12:00:00.000Z',
    hyperParameters,
    trainingDataHash: 'sha256:0f1e2d',
    featureSetVersion: '1',
    specVersion: '1.0.0',
    codeVersion: 'abc1234',
    metrics: evaluate(data.labels, predict(model, x), 0.35),
  };
  return { data, standardizer, model, json: JSON.stringify(artifact) };
}

describe('model artifact', () => {
  it('survives a JSON round trip through the schema', async () => {
    const { json } = await trainedArtifact();
    const parsed = ModelArtifactSchema.parse(JSON.parse(json));
    assert.equal(JSON.stringify(parsed), json);
  });

  it('scores rows exactly like batch predict on the same columns', async () => {
    const { data, standardizer, model, json } = await trainedArtifact();
    const artifact = ModelArtifactSchema.parse(JSON.parse(json)) as LogisticArtifact;
    const n = 100;
    const columns = data.columns.map((c) => c.slice(0, n));
    // Missing values arrive as null online and as NaN in batch columns.
    const rows = Array.from({ length: n }, (_, i) =>
      Object.fromEntries(FEATURES.map((name, j) => [name, Number.isNaN(columns[j]![i]) ? null : columns[j]![i]!])),
    );
    assert.ok(
      rows.some((r) => r.dep_hour === null),
      'the sample exercises missing values',
    );

    const online = await scoreFeatureRows(await openScorer(artifact, ''), rows);
    const batch = predict(model, standardizer.transform(columns, n));
    assert.equal(online.length, n);
    online.forEach((p: number, i: number) =>
      assert.ok(Math.abs(p - batch[i]!) <= 1e-12, `row ${i}: ${p} vs ${batch[i]}`),
    );
    assert.deepEqual(scoreColumns(artifact, columns, n), online);
  });

  it('refuses a row that lacks a feature (null is missing, absent is a feature-set mismatch)', async () => {
    const artifact = ModelArtifactSchema.parse(JSON.parse((await trainedArtifact()).json));
    const row: Record<string, number | null> = Object.fromEntries(FEATURES.map((f) => [f, 1]));
    delete row.origin_flights;
    const scorer = await openScorer(artifact, '');
    assert.throws(() => scoreFeatureRows(scorer, [row]), /no value for feature origin_flights/);
  });

  it('rejects inconsistent artifacts', async () => {
    const good = JSON.parse((await trainedArtifact()).json) as LogisticArtifact;
    const bad: [string, unknown][] = [
      ['weights', { ...good, weights: good.weights.slice(1) }],
      ['duplicate', { ...good, features: [...FEATURES.slice(1), 'centered'] }],
      ['stds', { ...good, standardizer: { ...good.standardizer, stds: good.standardizer.stds.map(() => 0) } }],
      ['trainedAt', { ...good, trainedAt: 'yesterday' }],
      ['kind', { ...good, kind: 'random-forest' }],
      ['threshold', { ...good, threshold: 1.5 }],
      ['extra key', { ...good, note: 'x' }],
    ];
    for (const [what, artifact] of bad) assert.equal(ModelArtifactSchema.safeParse(artifact).success, false, what);
  });
});
