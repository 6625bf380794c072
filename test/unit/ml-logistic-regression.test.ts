import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { predict, train, type Checkpoint, type TrainingData } from '../../src/ml/logistic-regression';
import { Standardizer } from '../../src/ml/standardizer';
import { lcg, syntheticFlights } from './ml-fixtures';

/**
 * 200 rows, 3 features, labels from a clipped linear probability (only + and *, so Python and
 * JavaScript produce the same bits). Reference coefficients from scikit-learn 1.9.1 / numpy 2.4.6:
 *
 *   import numpy as np
 *   from sklearn.linear_model import LogisticRegression
 *   s = 12345
 *   def u():
 *       global s
 *       s = (s * 1664525 + 1013904223) % 2**32
 *       return s / 2**32
 *   X, y = [], []
 *   for i in range(200):
 *       x1 = 4 * u() - 2; x2 = 2 * u() - 1; x3 = 3 * u()
 *       z = 0.5 + 1.5 * x1 - 2 * x2 + 0.7 * x3
 *       p = min(max(0.5 + 0.2 * z, 0.05), 0.95)
 *       X.append([x1, x2, x3]); y.append(1 if u() < p else 0)
 *   X, y = np.array(X), np.array(y)
 *   for l2 in (0.01, 0.5):
 *       m = LogisticRegression(C=1 / (len(y) * l2), tol=1e-12, max_iter=100000).fit(X, y)
 *       print(l2, y.sum(), m.coef_[0].tolist(), m.intercept_[0])
 *
 * Our objective is mean log loss + (l2/2)||w||^2 = sklearn's (C sum log loss + ||w||^2/2) / (C n),
 * so C = 1 / (n l2). The objective values were computed on scipy's BFGS optimum of that formula
 * (gtol 1e-13), which agrees with sklearn to 7e-8.
 */
function sklearnDataset(): TrainingData {
  const u = lcg(12345);
  const columns = [new Float64Array(200), new Float64Array(200), new Float64Array(200)];
  const labels = new Uint8Array(200);
  for (let i = 0; i < 200; i++) {
    const x1 = 4 * u() - 2;
    const x2 = 2 * u() - 1;
    const x3 = 3 * u();
    const z = 0.5 + 1.5 * x1 - 2 * x2 + 0.7 * x3;
    const p = Math.min(Math.max(0.5 + 0.2 * z, 0.05), 0.95);
    [columns[0]![i], columns[1]![i], columns[2]![i]] = [x1, x2, x3];
    labels[i] = u() < p ? 1 : 0;
  }
  return { columns, labels };
}

const SKLEARN = [
  {
    l2: 0.01,
    weights: [0.899274416354671, -1.7899539167290728, 0.7208320251394564],
    intercept: 0.15315221073291302,
    loss: 0.4052095089960386,
  },
  {
    l2: 0.5,
    weights: [0.21956671311529602, -0.20042919777214602, 0.11761777734006332],
    intercept: 0.8143357184292079,
    loss: 0.5448798194851397,
  },
];

function assertClose(actual: readonly number[], expected: readonly number[], tolerance: number): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, j) =>
    assert.ok(Math.abs(a - expected[j]!) <= tolerance, `[${j}] ${a} vs ${expected[j]} (tolerance ${tolerance})`),
  );
}

/** Runs training and keeps every checkpoint as the JSON text an activity would persist. */
async function trainRecording(data: TrainingData, maxIterations: number, resumeFrom?: Checkpoint) {
  const checkpoints: string[] = [];
  const result = await train(
    data,
    { l2: 1e-3, maxIterations, tolerance: 0 },
    { resumeFrom, onCheckpoint: (cp) => void checkpoints.push(JSON.stringify(cp)) },
  );
  return { result, checkpoints };
}

describe('logistic regression', () => {
  it('recovers scikit-learn coefficients to 1e-6', async () => {
    const data = sklearnDataset();
    assert.equal(
      data.labels.reduce((s, y) => s + y, 0),
      147,
      'the generated dataset is the one sklearn saw',
    );
    for (const ref of SKLEARN) {
      const result = await train(data, { l2: ref.l2, maxIterations: 50, tolerance: 1e-15 });
      assert.ok(result.converged);
      assertClose(result.weights, ref.weights, 1e-6);
      assertClose([result.intercept], [ref.intercept], 1e-6);
      assert.ok(Math.abs(result.loss - ref.loss) < 1e-12, `loss ${result.loss} vs ${ref.loss}`);
    }
  });

  it('resumes from a checkpoint to exactly the weights of an uninterrupted run', async () => {
    // Small l2 and overlapping classes: Newton needs more than 4 iterations here.
    const data = sklearnDataset();
    const full = await trainRecording(data, 10);
    assert.ok(full.result.iterations > 4, `only ${full.result.iterations} iterations`);

    // The run "crashes" right after persisting checkpoint 4, like an activity dying mid-training.
    const persisted: string[] = [];
    await assert.rejects(
      train(
        data,
        { l2: 1e-3, maxIterations: 10, tolerance: 0 },
        {
          onCheckpoint: (cp) => {
            persisted.push(JSON.stringify(cp));
            if (cp.iteration === 4) throw new Error('worker lost');
          },
        },
      ),
      /worker lost/,
    );
    const last = JSON.parse(persisted.at(-1)!) as Checkpoint;
    assert.equal(last.iteration, 4);
    const resumed = await trainRecording(data, 10, last);

    assert.deepEqual(resumed.result, full.result); // deepEqual on numbers is Object.is: bit-identical
    assert.deepEqual([...persisted, ...resumed.checkpoints], full.checkpoints);
  });

  it('returns the last checkpoint unchanged when resumed after convergence', async () => {
    const data = sklearnDataset();
    const full = await trainRecording(data, 100);
    assert.ok(full.result.converged);
    const resumed = await trainRecording(data, 100, JSON.parse(full.checkpoints.at(-1)!) as Checkpoint);
    assert.deepEqual(resumed.result, full.result);
    assert.deepEqual(resumed.checkpoints, []);
  });

  it('refuses a checkpoint taken on other data', async () => {
    const data = sklearnDataset();
    const { checkpoints } = await trainRecording(data, 3);
    const other: TrainingData = { columns: data.columns.map((c) => c.map((v) => v * 2)), labels: data.labels };
    await assert.rejects(trainRecording(other, 10, JSON.parse(checkpoints.at(-1)!) as Checkpoint), /does not match/);
  });

  it('is deterministic: two runs give identical weights and checkpoints', async () => {
    const { columns, labels } = syntheticFlights(20_000, 7);
    const data = { columns: Standardizer.fit(columns, labels.length).transform(columns, labels.length), labels };
    const a = await trainRecording(data, 20);
    const b = await trainRecording(data, 20);
    assert.deepEqual(a.result, b.result);
    assert.deepEqual(a.checkpoints, b.checkpoints);
  });

  it('keeps weights finite on perfectly separable data, bounded by the L2 penalty', async () => {
    const u = lcg(3);
    // Two classes with a gap around 0: any positive slope separates them.
    const x = Float64Array.from({ length: 400 }, () => (u() < 0.5 ? -1 : 1) * (0.2 + 0.8 * u()));
    const labels = Uint8Array.from(x, (v) => (v > 0 ? 1 : 0));
    const slopes: number[] = [];
    for (const l2 of [1e-2, 1e-4, 1e-6]) {
      const result = await train({ columns: [x], labels }, { l2, maxIterations: 200, tolerance: 1e-14 });
      assert.ok(result.converged, `l2 ${l2} did not converge`);
      assert.ok([...result.weights, result.intercept, result.loss].every(Number.isFinite));
      const p = predict(result, [x]);
      assert.ok(
        labels.every((y, i) => (p[i]! >= 0.5 ? 1 : 0) === y),
        'separates the classes',
      );
      slopes.push(result.weights[0]!);
    }
    // Weaker penalty, steeper (but still finite) slope: without L2 it would grow forever.
    assert.ok(slopes[0]! < slopes[1]! && slopes[1]! < slopes[2]!, `slopes ${slopes}`);
  });

  it('rejects data it cannot train on', async () => {
    const { columns, labels } = sklearnDataset();
    const options = { l2: 0.01, maxIterations: 10, tolerance: 0 };
    await assert.rejects(train({ columns, labels: new Uint8Array(200) }, options), /both classes/);
    const withNaN = columns.map((c) => c.slice());
    withNaN[1]![17] = NaN;
    await assert.rejects(train({ columns: withNaN, labels }, options), /standardize/);
    await assert.rejects(train({ columns, labels }, { ...options, l2: 0 }), /l2/);
    await assert.rejects(
      train({ columns: columns.slice(0, 2), labels }, options, {
        resumeFrom: { iteration: 1, weights: [0, 0, 0], intercept: 0, loss: 1 },
      }),
      /weights/,
    );
  });

  it('trains 1M rows x 6 features in seconds, converging with a decreasing loss', async () => {
    const rows = 1_000_000;
    const { columns, labels, trueWeights, trueIntercept } = syntheticFlights(rows, 2024);
    const standardizer = Standardizer.fit(columns, rows);
    const data = { columns: standardizer.transform(columns, rows), labels };
    const losses: number[] = [];
    const started = performance.now();
    const result = await train(
      data,
      { l2: 1e-6, maxIterations: 30, tolerance: 1e-10 },
      { onCheckpoint: (cp) => void losses.push(cp.loss) },
    );
    const seconds = (performance.now() - started) / 1000;

    assert.ok(result.converged && result.iterations < 30, `${result.iterations} iterations`);
    assert.ok(
      losses.every((loss, i) => i === 0 || loss < losses[i - 1]!),
      `losses ${losses}`,
    );
    assert.ok(seconds < 10, `training took ${seconds.toFixed(1)} s`);
    // The generating coefficients, moved into standardized space, are recovered to sampling error.
    const expected = trueWeights.map((w, j) => w * standardizer.stds[j]!);
    assertClose(result.weights, expected, 0.03);
    const expectedIntercept = trueIntercept + trueWeights.reduce((s, w, j) => s + w * standardizer.means[j]!, 0);
    assertClose([result.intercept], [expectedIntercept], 0.03);
  });
});
