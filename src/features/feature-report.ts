import { summarizeChecks, type Check } from '../quality/check';

/** One judged measurement of a feature partition, its input or a computed feature (subject: a feature name or 'input'). */
export interface FeatureCheck extends Check {
  gate: 'rows' | 'history' | 'freshness' | 'nulls' | 'range' | 'distribution';
}

export interface FeatureReport {
  featureSet: string;
  version: string;
  partition: string;
  checks: FeatureCheck[];
  blockingFailures: number;
  warnings: number;
  passed: boolean;
}

export function buildFeatureReport(
  featureSet: string,
  version: string,
  partition: string,
  checks: FeatureCheck[],
): FeatureReport {
  const failed = checks.filter((c) => c.verdict === 'fail');
  const blockingFailures = failed.filter((c) => c.severity === 'blocking').length;
  return {
    featureSet,
    version,
    partition,
    checks,
    blockingFailures,
    warnings: failed.length - blockingFailures,
    passed: blockingFailures === 0,
  };
}

/** One line naming each failed check: what an alert and a workflow failure say. */
export function summarizeFeatureFailures(report: FeatureReport, severity: 'blocking' | 'warning' = 'blocking'): string {
  return summarizeChecks(report.checks, severity);
}
