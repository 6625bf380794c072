/** What the staging skew check found: the reviewer reads it in the approval view. */
export interface SkewCheckResult {
  rows: number;
  /** The day the sample was replayed on (the online store's current day). */
  day: string;
  maxAbsDifference: number;
  /** The worst rows, when any differ: request, serving and batch score, and which inputs differed. */
  mismatches: { request: Record<string, unknown>; serving: number; batch: number; inputs: string[] }[];
  /** The model checked (runs before trainers existed did not say): the built-in one, or a trainer's ONNX model with its trainer's own scores against Node's. */
  model?:
    | { kind: 'logistic-regression' }
    | {
        kind: 'onnx';
        trainer: string;
        environment: { requirementsSha256?: string; python?: string };
        trainerParity: { rows: number; maxAbsDifference: number };
      };
}
