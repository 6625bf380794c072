import type { Severity } from '../specs/contract-schema';
import type { GateCheck, GateName } from './gate-report';
import { formatNumber } from './gate-math';

interface CheckTarget {
  gate: GateName;
  subject: string;
  severity: Severity;
}

/**
 * The common "measured value <= limit" check. observed reads "<label> <value>[ (<context>)]" and detail
 * repeats it with the comparison that decided the verdict, e.g. "null rate 0.05 (5000 of 100000) > 0.001".
 */
export function maxCheck(
  target: CheckTarget,
  measure: { label: string; value: number; max: number; context?: string },
): GateCheck {
  const ok = measure.value <= measure.max;
  const context = measure.context ? ` (${measure.context})` : '';
  const observed = `${measure.label} ${formatNumber(measure.value)}${context}`;
  const max = formatNumber(measure.max);
  return {
    ...target,
    observed,
    expected: `<= ${max}`,
    verdict: ok ? 'pass' : 'fail',
    detail: `${observed} ${ok ? '<=' : '>'} ${max}`,
  };
}

/** A check that could not be judged; never counts as a failure. */
export function skippedCheck(target: CheckTarget, expected: string, reason: string): GateCheck {
  return { ...target, observed: 'n/a', expected, verdict: 'skipped', detail: reason };
}
