import type { Check } from '../quality/check';
import type { GateMetric, ModelSpec } from '../specs/model-schema';
import type { Evaluation } from './evaluation';

export interface BiasRow {
  /** A segment name, or 'overall' when the spec defines no segments. */
  segment: string;
  metric: GateMetric;
  value: number | null;
  /** The bound as text, e.g. ">= 0.6". */
  bound: string;
  verdict: 'pass' | 'fail';
}

export interface BiasCheck {
  passed: boolean;
  rows: BiasRow[];
  /** One line; names every failure. */
  summary: string;
}

/**
 * The hard bias / segment-parity gate: every segment's metric within every bound of the spec
 * (bounds are inclusive). Fails closed: a segment without metrics (one class, no rows) fails every
 * bound, since nothing shows it is within them. With no segments in the spec, the overall metrics
 * are checked instead, so the bounds still mean something.
 */
export function checkBias(evaluation: Evaluation, bounds: ModelSpec['bias']): BiasCheck {
  const bySegment = evaluation.segments.length > 0;
  const scopes = bySegment
    ? evaluation.segments.map((s) => ({ ...s, label: `segment ${s.name}` }))
    : [{ name: 'overall', label: 'overall', metrics: evaluation.overall, note: undefined }];
  const rows: BiasRow[] = [];
  const failures: string[] = [];
  for (const scope of scopes) {
    const { label } = scope;
    if (!scope.metrics && bounds.length > 0) failures.push(`${label}: no metrics (${scope.note ?? 'not evaluated'})`);
    for (const { metric, min, max } of bounds) {
      const value = scope.metrics?.[metric] ?? null;
      const below = value !== null && min !== undefined && value < min;
      const above = value !== null && max !== undefined && value > max;
      rows.push({
        segment: scope.name,
        metric,
        value,
        bound: boundText(min, max),
        verdict: value === null || below || above ? 'fail' : 'pass',
      });
      if (below) failures.push(`${label} ${metric} ${value.toFixed(4)} below ${min}`);
      if (above) failures.push(`${label} ${metric} ${value.toFixed(4)} above ${max}`);
    }
  }
  const passed = failures.length === 0;
  const summary =
    bounds.length === 0
      ? 'no bias bounds in the spec'
      : passed
        ? `${bySegment ? `all ${scopes.length} segments` : 'overall'} within ${bounds.map((b) => `${b.metric} ${boundText(b.min, b.max)}`).join(', ')}`
        : failures.join('; ');
  return { passed, rows, summary };
}

/** The gate's rows as the shared Check: what the failure's report and its alert read. */
export function biasChecks(result: BiasCheck): Check[] {
  return result.rows.map((r) => {
    const observed = r.value === null ? 'not measurable' : r.value.toFixed(4);
    return {
      gate: 'bias',
      subject: r.segment,
      observed: `${r.metric} ${observed}`,
      expected: `${r.metric} ${r.bound}`,
      verdict: r.verdict,
      severity: 'blocking',
      detail: `${r.segment} ${r.metric} ${observed}, expected ${r.bound}`,
    };
  });
}

function boundText(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `between ${min} and ${max}`;
  return min !== undefined ? `>= ${min}` : `<= ${max}`;
}
