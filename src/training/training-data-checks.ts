import type { Check } from '../quality/check';
import type { ModelSpec } from '../specs/model-schema';

/** One blocking check of the training window: the shared Check (the alert reads observed against expected). */
export interface TrainingDataCheck extends Check {
  gate: 'rows' | 'positive-share' | 'null-share' | 'unlabelled-share' | 'day-volume';
  verdict: 'pass' | 'fail';
  severity: 'blocking';
}

/** What the window query measured: counts only, so the checks are pure and unit-testable. */
export interface TrainingWindowProfile {
  rows: number;
  labelled: number;
  positives: number;
  nullsByFeature: Record<string, number>;
  rowsByDay: Record<string, number>;
  /** Every day of the window, including days without rows. */
  days: string[];
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Is this window fit to train on? Too few rows, labels that are nearly all one class (a broken
 * join, not the world), features mostly missing, or a day with a fraction of its usual rows (a hole
 * a backfill left) all stop the run before any training.
 */
export function checkTrainingWindow(
  profile: TrainingWindowProfile,
  rules: ModelSpec['dataQuality'],
): TrainingDataCheck[] {
  const checks: TrainingDataCheck[] = [];
  const add = (gate: TrainingDataCheck['gate'], subject: string, ok: boolean, observed: string, expected: string) =>
    checks.push({
      gate,
      subject,
      observed,
      expected,
      verdict: ok ? 'pass' : 'fail',
      severity: 'blocking',
      detail: `${observed}, expected ${expected}`,
    });

  add('rows', 'window', profile.labelled >= rules.minRows, `${profile.labelled} labelled rows`, `>= ${rules.minRows}`);
  const unlabelled = profile.rows === 0 ? 0 : (profile.rows - profile.labelled) / profile.rows;
  add('unlabelled-share', 'label', unlabelled <= rules.maxNullShare, pct(unlabelled), `<= ${pct(rules.maxNullShare)}`);
  const share = profile.labelled === 0 ? 0 : profile.positives / profile.labelled;
  const [low, high] = rules.positiveShare;
  add(
    'positive-share',
    'label',
    profile.labelled > 0 && share >= low && share <= high,
    pct(share),
    `${pct(low)}..${pct(high)}`,
  );
  for (const [feature, nulls] of Object.entries(profile.nullsByFeature)) {
    const nullShare = profile.rows === 0 ? 0 : nulls / profile.rows;
    add('null-share', feature, nullShare <= rules.maxNullShare, pct(nullShare), `<= ${pct(rules.maxNullShare)}`);
  }
  const counts = profile.days.map((d) => profile.rowsByDay[d] ?? 0);
  const typical = counts.length ? median(counts) : 0;
  for (const d of profile.days) {
    const n = profile.rowsByDay[d] ?? 0;
    if (n < rules.minDayRowsRatio * typical)
      add('day-volume', d, false, `${n} rows`, `>= ${rules.minDayRowsRatio} x median day (${typical})`);
  }
  if (!checks.some((c) => c.gate === 'day-volume'))
    add(
      'day-volume',
      'every day',
      true,
      `${profile.days.length} days, median ${typical} rows`,
      `>= ${rules.minDayRowsRatio} x median day`,
    );
  return checks;
}
