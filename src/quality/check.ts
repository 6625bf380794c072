/**
 * One judged measurement, the same shape for every gate of every pipeline: a data gate of ingestion
 * (volume, freshness, ...), a feature check (rows, nulls, ...), a training-data check (positive-share,
 * ...) and a model gate (promotion, bias). Reports, alerts (observed against expected) and the review
 * all read this one shape.
 */
export interface Check {
  /** What judged it, e.g. `volumeBySegment`, `nulls`, `positive-share`, `promotion`. */
  gate: string;
  /** What it judged: a column, a feature, a segment (`origin=ORD`), a day, or `dataset`. */
  subject: string;
  observed: string;
  /** Human text of the rule, e.g. "<= 0.001". */
  expected: string;
  verdict: 'pass' | 'fail' | 'skipped';
  severity: 'blocking' | 'warning';
  /** One sentence that stands alone in a log line. */
  detail: string;
  /** `ask`: a blocking failure waits for reviewers to override it (data gates marked `onFail: 'ask'`). */
  onFail?: 'stop' | 'ask';
}

/** One line naming each failed check of a severity: `gate(subject): detail; ...`. */
export function summarizeChecks(checks: readonly Check[], severity: Check['severity'] = 'blocking'): string {
  return checks
    .filter((c) => c.verdict === 'fail' && c.severity === severity)
    .map((c) => (c.subject === 'dataset' ? `${c.gate}: ${c.detail}` : `${c.gate}(${c.subject}): ${c.detail}`))
    .join('; ');
}
