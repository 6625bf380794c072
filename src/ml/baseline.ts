import { baseRate } from './metrics';

/**
 * The naive model a first real model must beat: every row gets the training base rate. Its scores
 * are all tied, so its AUC is exactly 0.5, and its log loss on the training labels is the entropy
 * of the base rate (the best any constant prediction can do).
 */
export interface BaselineModel {
  kind: 'base-rate';
  rate: number;
}

export function fitBaseline(labels: Uint8Array): BaselineModel {
  return { kind: 'base-rate', rate: baseRate(labels) };
}

export function predictBaseline(model: BaselineModel, rows: number): Float64Array {
  return new Float64Array(rows).fill(model.rate);
}
