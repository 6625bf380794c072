import type { Check } from '../quality/check';
import type { GateMetric, ModelSpec } from '../specs/model-schema';
import type { Evaluation } from './evaluation';

export interface ComparisonRow {
  /** 'overall' or a segment name. */
  scope: string;
  metric: GateMetric;
  candidate: number | null;
  reference: number | null;
  /** candidate - reference, whatever the metric's direction. */
  difference: number | null;
  /** What the row had to show, e.g. ">= +0.002 vs production". */
  required: string;
  verdict: 'pass' | 'fail';
}

export interface PromotionComparison {
  against: 'production' | 'baseline';
  referenceVersion?: number;
  passed: boolean;
  rows: ComparisonRow[];
  /** One line; names every failure. */
  summary: string;
}

export type PromotionReference =
  { kind: 'production'; version: number; evaluation: Evaluation } | { kind: 'baseline'; evaluation: Evaluation };

/** Metrics where smaller is better; every other gate metric is higher-is-better. */
const LOWER_IS_BETTER: ReadonlySet<GateMetric> = new Set<GateMetric>(['logLoss', 'ece']);

/**
 * Slack for float subtraction, so a difference that meets the requirement exactly on paper
 * (0.6712 - 0.6710 = 0.00019999999999997797 against 0.0002) passes.
 */
const EPSILON = 1e-12;

/**
 * The promotion gate: the candidate against production (when there is one) or, for a first model,
 * against the base-rate baseline, both evaluated on the same test rows. Direction-aware: for
 * logLoss and ece an improvement is a decrease.
 *
 * Against production the overall metric must improve by at least `minImprovement` and no segment
 * may get worse by more than `maxSegmentDegradation`; a segment production has metrics for but the
 * candidate has none for fails (nothing shows it did not degrade), while a segment production has
 * no metrics for is shown but not gated. Against the baseline the overall metric must improve by
 * at least `minLiftOverBaseline`; segment rows are informational (the baseline ranks nothing).
 */
export function comparePromotion(
  candidate: Evaluation,
  reference: PromotionReference,
  criteria: ModelSpec['promotion'],
): PromotionComparison {
  checkSameRows(candidate, reference.evaluation);
  const { metric } = criteria;
  const direction = LOWER_IS_BETTER.has(metric) ? -1 : 1;
  const against = reference.kind;
  const name = reference.kind === 'production' ? `production v${reference.version}` : 'baseline';

  const minGain = against === 'production' ? criteria.minImprovement : criteria.minLiftOverBaseline;
  const c = candidate.overall[metric];
  const r = reference.evaluation.overall[metric];
  const overallPasses = direction * (c - r) >= minGain - EPSILON;
  const needs = `${direction > 0 ? '+' : '-'}${minGain}`;
  const rows: ComparisonRow[] = [
    {
      scope: 'overall',
      metric,
      candidate: c,
      reference: r,
      difference: c - r,
      required: `${direction > 0 ? '>=' : '<='} ${needs} vs ${against}`,
      verdict: overallPasses ? 'pass' : 'fail',
    },
  ];
  const overallText = `${metric} ${fixed(c)} vs ${name} ${fixed(r)} (${signed(c - r)}, needs ${needs})`;
  const failures = overallPasses ? [] : [overallText];

  const tolerance = criteria.maxSegmentDegradation;
  const allowed = `${direction > 0 ? '>= -' : '<= +'}${tolerance} vs production`;
  let gatedSegments = 0;
  for (const scope of segmentNames(candidate, reference.evaluation)) {
    const candidateSegment = candidate.segments.find((s) => s.name === scope);
    const referenceSegment = reference.evaluation.segments.find((s) => s.name === scope);
    const cs = candidateSegment?.metrics?.[metric] ?? null;
    const rs = referenceSegment?.metrics?.[metric] ?? null;
    const difference = cs !== null && rs !== null ? cs - rs : null;
    const row = { scope, metric, candidate: cs, reference: rs, difference };
    if (against === 'baseline') {
      rows.push({ ...row, required: 'informational', verdict: 'pass' });
    } else if (rs === null) {
      rows.push({ ...row, required: 'not gated: no production metrics', verdict: 'pass' });
    } else if (cs === null) {
      gatedSegments++;
      rows.push({ ...row, required: allowed, verdict: 'fail' });
      failures.push(`segment ${scope}: no candidate ${metric} (${candidateSegment?.note ?? 'not evaluated'})`);
    } else {
      gatedSegments++;
      const passes = direction * (cs - rs) >= -tolerance - EPSILON;
      rows.push({ ...row, required: allowed, verdict: passes ? 'pass' : 'fail' });
      if (!passes) failures.push(`segment ${scope} ${metric} ${signed(cs - rs)} (tolerance ${tolerance})`);
    }
  }

  const passed = failures.length === 0;
  const summary = passed
    ? [overallText, ...(gatedSegments > 0 ? [`${gatedSegments} segment(s) within tolerance ${tolerance}`] : [])].join(
        '; ',
      )
    : failures.join('; ');
  return {
    against,
    ...(reference.kind === 'production' ? { referenceVersion: reference.version } : {}),
    passed,
    rows,
    summary,
  };
}

/** The comparison's rows as the shared Check: what the failure's report and its alert read. */
export function promotionChecks(comparison: PromotionComparison): Check[] {
  return comparison.rows.map((r) => {
    const value = (x: number | null) => (x === null ? 'n/a' : fixed(x));
    const observed = `${r.metric} ${value(r.candidate)} vs ${value(r.reference)} (${comparison.against})`;
    return {
      gate: 'promotion',
      subject: r.scope,
      observed,
      expected: r.required,
      verdict: r.verdict,
      severity: 'blocking',
      detail: `${r.scope} ${observed}, required ${r.required}`,
    };
  });
}

/** Comparing metrics from different rows would say nothing about the models. */
function checkSameRows(candidate: Evaluation, reference: Evaluation): void {
  const describe = (e: Evaluation): string => `${e.split} ${e.from}..${e.to} (${e.rows} rows)`;
  if (describe(candidate) !== describe(reference)) {
    throw new Error(
      `promotion compares evaluations of different rows: candidate ${describe(candidate)}, reference ${describe(reference)}`,
    );
  }
}

/** The candidate's segments in order, then any only the reference has. */
function segmentNames(candidate: Evaluation, reference: Evaluation): string[] {
  const names = candidate.segments.map((s) => s.name);
  for (const s of reference.segments) if (!names.includes(s.name)) names.push(s.name);
  return names;
}

function fixed(x: number): string {
  return x.toFixed(4);
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;
}
