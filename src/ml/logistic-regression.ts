import { checkColumns, type Columns } from './columns';

/**
 * L2-regularized logistic regression trained by damped Newton steps on the full batch.
 *
 * Objective (w: feature weights, b: unpenalized intercept, n rows):
 *   L(w, b) = (1/n) sum_i [log(1 + e^eta_i) - y_i eta_i] + (l2 / 2) ||w||^2,  eta_i = b + w.x_i
 * This is scikit-learn's `C * sum(logloss) + ||w||^2 / 2` divided by C*n, so `l2` = 1 / (C n).
 *
 * Newton on ~7 parameters is exact and cheap: one pass builds the gradient and the (d+1)^2 Hessian,
 * a Cholesky solve gives the step, and convergence takes a handful of iterations. No randomness,
 * so there is no seed: the result depends only on the data and the options.
 */

/** Standardized training matrix (no NaN: impute first) and 0/1 labels, one per row. */
export interface TrainingData {
  columns: Columns;
  labels: Uint8Array;
}

export interface TrainOptions {
  /** L2 penalty lambda on the weights (not the intercept). Must be > 0: it keeps separable data finite. */
  l2: number;
  maxIterations: number;
  /** Stop when the next Newton step would improve the objective by no more than this. */
  tolerance: number;
}

/** State after `iteration` Newton steps: small JSON, enough to resume exactly. */
export interface Checkpoint {
  iteration: number;
  weights: number[];
  intercept: number;
  /** Objective at these weights; checked on resume to catch a checkpoint from other data or options. */
  loss: number;
}

export interface TrainHooks {
  resumeFrom?: Checkpoint;
  /** Called after every accepted iteration; training waits for it (e.g. a heartbeat or a file write). */
  onCheckpoint?: (checkpoint: Checkpoint) => Promise<void> | void;
}

export interface LogisticModel {
  weights: number[];
  intercept: number;
}

export interface TrainResult extends LogisticModel {
  iterations: number;
  loss: number;
  /** False when maxIterations ran out first. */
  converged: boolean;
}

/** Armijo sufficient-decrease constant and the most step halvings tried per iteration. */
const ARMIJO = 1e-4;
const MAX_HALVINGS = 40;
/** How far a recomputed loss may drift from the checkpoint's (another machine's libm) before we refuse. */
const RESUME_LOSS_RTOL = 1e-9;

/**
 * The stopping rule looks only at the current weights (it tries the next step and discards it if
 * it improves by <= tolerance), never at earlier losses, and every accepted step is checkpointed.
 * So the result is always the last checkpoint, and resuming from any checkpoint retraces exactly
 * the uninterrupted run, bit for bit.
 */
export async function train(data: TrainingData, options: TrainOptions, hooks: TrainHooks = {}): Promise<TrainResult> {
  const { columns, labels } = data;
  const { l2, maxIterations, tolerance } = options;
  const positives = checkTrainingData(columns, labels);
  if (!(l2 > 0) || !Number.isFinite(l2)) throw new RangeError(`l2 must be a positive number, got ${l2}`);
  if (!Number.isInteger(maxIterations) || maxIterations < 0)
    throw new RangeError(`maxIterations must be a non-negative integer, got ${maxIterations}`);
  if (!(tolerance >= 0)) throw new RangeError(`tolerance must be >= 0, got ${tolerance}`);

  const d = columns.length;
  const n = labels.length;
  const weights = new Float64Array(d);
  let intercept: number;
  let iteration = 0;
  const start = hooks.resumeFrom;
  if (start) {
    checkCheckpoint(start, d, maxIterations);
    weights.set(start.weights);
    intercept = start.intercept;
    iteration = start.iteration;
  } else {
    // With w = 0 the optimal intercept is the logit of the base rate: start from the baseline model.
    intercept = Math.log(positives / (n - positives));
  }

  // Workspace allocated once: linear predictors of the current and the trial weights, and per-row
  // residual p - y and curvature p(1 - p).
  let eta = new Float64Array(n);
  let trialEta = new Float64Array(n);
  const residual = new Float64Array(n);
  const curvature = new Float64Array(n);

  linearPredictor(columns, weights, intercept, eta);
  let loss = objective(eta, labels, weights, l2);
  if (start && Math.abs(loss - start.loss) > RESUME_LOSS_RTOL * Math.max(1, Math.abs(start.loss))) {
    throw new Error(
      `checkpoint loss ${start.loss} does not match ${loss} recomputed on this data: resuming from another run's checkpoint?`,
    );
  }

  let converged = false;
  const trialWeights = new Float64Array(d);
  while (iteration < maxIterations) {
    const { gradient, hessian } = derivatives(columns, labels, eta, weights, l2, residual, curvature);
    const step = choleskySolve(hessian, gradient, d + 1);
    let slope = 0; // directional derivative along -step; negative since the Hessian is positive definite
    for (let j = 0; j <= d; j++) slope -= gradient[j]! * step[j]!;

    let t = 1;
    let trialIntercept = intercept;
    let trialLoss = Infinity;
    let accepted = false;
    for (let halving = 0; halving < MAX_HALVINGS; halving++, t /= 2) {
      for (let j = 0; j < d; j++) trialWeights[j] = weights[j]! - t * step[j]!;
      trialIntercept = intercept - t * step[d]!;
      linearPredictor(columns, trialWeights, trialIntercept, trialEta);
      trialLoss = objective(trialEta, labels, trialWeights, l2);
      if (trialLoss <= loss + ARMIJO * t * slope) {
        accepted = true;
        break;
      }
    }
    // No decrease left within floating-point precision, or too little to be worth a step.
    if (!accepted || loss - trialLoss <= tolerance) {
      converged = true;
      break;
    }

    weights.set(trialWeights);
    intercept = trialIntercept;
    loss = trialLoss;
    iteration++;
    [eta, trialEta] = [trialEta, eta];
    await hooks.onCheckpoint?.({ iteration, weights: Array.from(weights), intercept, loss });
  }
  return { weights: Array.from(weights), intercept, iterations: iteration, loss, converged };
}

/** Probability of the positive class for each row of a standardized matrix. */
export function predict(model: LogisticModel, columns: Columns): Float64Array {
  const rows = columns[0]?.length ?? 0;
  checkColumns(columns, rows, model.weights.length);
  const out = new Float64Array(rows);
  linearPredictor(columns, model.weights, model.intercept, out);
  for (let i = 0; i < rows; i++) out[i] = sigmoid(out[i]!);
  return out;
}

/** out[i] = b + sum_j w_j x_ij, feature by feature so each column streams through once. */
function linearPredictor(columns: Columns, weights: ArrayLike<number>, intercept: number, out: Float64Array): void {
  out.fill(intercept);
  columns.forEach((column, j) => {
    const w = weights[j]!;
    for (let i = 0; i < out.length; i++) out[i] += w * column[i]!;
  });
}

function objective(eta: Float64Array, labels: Uint8Array, weights: Float64Array, l2: number): number {
  let sum = 0;
  for (let i = 0; i < eta.length; i++) {
    const e = eta[i]!;
    // log(1 + e^eta) without overflow for large |eta|.
    sum += Math.max(e, 0) + Math.log1p(Math.exp(-Math.abs(e))) - labels[i]! * e;
  }
  let squares = 0;
  for (let j = 0; j < weights.length; j++) squares += weights[j]! * weights[j]!;
  return sum / eta.length + (l2 / 2) * squares;
}

function sigmoid(eta: number): number {
  if (eta >= 0) return 1 / (1 + Math.exp(-eta));
  const e = Math.exp(eta);
  return e / (1 + e);
}

/**
 * Gradient and Hessian of the objective over (w, b), the intercept last. The Hessian is a dense
 * (d+1)^2 row-major array; each entry is one tight loop over two columns, which beats a row loop
 * with a (d+1)^2 inner accumulation.
 */
function derivatives(
  columns: Columns,
  labels: Uint8Array,
  eta: Float64Array,
  weights: Float64Array,
  l2: number,
  residual: Float64Array,
  curvature: Float64Array,
): { gradient: Float64Array; hessian: Float64Array } {
  const n = eta.length;
  const d = columns.length;
  const m = d + 1;
  for (let i = 0; i < n; i++) {
    const p = sigmoid(eta[i]!);
    residual[i] = p - labels[i]!;
    curvature[i] = p * (1 - p);
  }
  const gradient = new Float64Array(m);
  const hessian = new Float64Array(m * m);
  for (let j = 0; j < d; j++) {
    const a = columns[j]!;
    let g = 0;
    let hb = 0;
    for (let i = 0; i < n; i++) {
      g += residual[i]! * a[i]!;
      hb += curvature[i]! * a[i]!;
    }
    gradient[j] = g / n + l2 * weights[j]!;
    hessian[j * m + d] = hessian[d * m + j] = hb / n;
    for (let k = j; k < d; k++) {
      const c = columns[k]!;
      let h = 0;
      for (let i = 0; i < n; i++) h += curvature[i]! * a[i]! * c[i]!;
      hessian[j * m + k] = hessian[k * m + j] = h / n + (j === k ? l2 : 0);
    }
  }
  let g = 0;
  let h = 0;
  for (let i = 0; i < n; i++) {
    g += residual[i]!;
    h += curvature[i]!;
  }
  gradient[d] = g / n;
  hessian[d * m + d] = h / n;
  return { gradient, hessian };
}

/** Solves A x = b for a symmetric positive definite m x m A (row-major) by Cholesky. */
function choleskySolve(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const lower = new Float64Array(m * m);
  for (let j = 0; j < m; j++) {
    for (let k = 0; k <= j; k++) {
      let s = a[j * m + k]!;
      for (let p = 0; p < k; p++) s -= lower[j * m + p]! * lower[k * m + p]!;
      if (j === k) {
        // Only reachable when every prediction saturates to exactly 0 or 1 (intercept curvature 0).
        if (!(s > 0)) throw new Error('Hessian is not positive definite: predictions saturated');
        lower[j * m + j] = Math.sqrt(s);
      } else {
        lower[j * m + k] = s / lower[k * m + k]!;
      }
    }
  }
  const x = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    let s = b[j]!;
    for (let p = 0; p < j; p++) s -= lower[j * m + p]! * x[p]!;
    x[j] = s / lower[j * m + j]!;
  }
  for (let j = m - 1; j >= 0; j--) {
    let s = x[j]!;
    for (let p = j + 1; p < m; p++) s -= lower[p * m + j]! * x[p]!;
    x[j] = s / lower[j * m + j]!;
  }
  return x;
}

/** Throws on malformed data; returns the number of positive labels. */
function checkTrainingData(columns: Columns, labels: Uint8Array): number {
  if (columns.length === 0) throw new RangeError('training needs at least one feature column');
  checkColumns(columns, labels.length, columns.length);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (y > 1) throw new RangeError(`label ${i} is ${y}, expected 0 or 1`);
    positives += y;
  }
  // With one class the unpenalized intercept runs off to infinity.
  if (positives === 0 || positives === labels.length) throw new RangeError('training labels need both classes');
  columns.forEach((column, j) => {
    for (let i = 0; i < column.length; i++) {
      if (!Number.isFinite(column[i]!))
        throw new RangeError(`feature column ${j} row ${i} is ${column[i]}: standardize (impute) before training`);
    }
  });
  return positives;
}

function checkCheckpoint(checkpoint: Checkpoint, features: number, maxIterations: number): void {
  const { iteration, weights, intercept } = checkpoint;
  if (weights.length !== features)
    throw new RangeError(`checkpoint has ${weights.length} weights, the data ${features} features`);
  if (!Number.isInteger(iteration) || iteration < 0 || iteration > maxIterations) {
    throw new RangeError(`checkpoint iteration ${iteration} is outside 0..${maxIterations}`);
  }
  if (![...weights, intercept].every(Number.isFinite)) throw new RangeError('checkpoint weights must be finite');
}
