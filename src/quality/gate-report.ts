import { z } from 'zod';
import { OnFailSchema, SeveritySchema } from '../specs/contract-schema';
import { summarizeChecks, type Check } from './check';

/** What ingestion measured while reading a source; the stats-based gates judge these numbers. */
export const IngestStatsSchema = z.object({
  sourceRows: z.number().int().nonnegative(),
  rowsRead: z.number().int().nonnegative(),
  rowsAccepted: z.number().int().nonnegative(),
  rowsRejected: z.number().int().nonnegative(),
  /** Nulls per column over all rows read (accepted and rejected). */
  nullCounts: z.record(z.string(), z.number().int().nonnegative()),
  /** Rows rejected per row rule, keyed "<column>:<rule>", e.g. "origin:reference". */
  ruleCounts: z.record(z.string(), z.number().int().nonnegative()),
});
export type IngestStats = z.infer<typeof IngestStatsSchema>;

export const GateNameSchema = z.enum([
  'reconciliation',
  'completeness',
  'volume',
  'volumeBySegment',
  'segmentVolume',
  'freshness',
  'uniqueness',
  'rejectRate',
  'referentialIntegrity',
  'distribution',
]);
export type GateName = z.infer<typeof GateNameSchema>;

export const VerdictSchema = z.enum(['pass', 'fail', 'skipped']);
export type Verdict = z.infer<typeof VerdictSchema>;

/** One judged measurement; plain strings so the report stays small JSON in Temporal's history. */
export const GateCheckSchema = z.object({
  gate: GateNameSchema,
  /** A column, a day (YYYY-MM-DD), a segment (column=value) or 'dataset'. */
  subject: z.string(),
  observed: z.string(),
  /** Human text of the rule, e.g. "<= 0.001" or "within [0.99, 1.5] x median 3000000". */
  expected: z.string(),
  verdict: VerdictSchema,
  severity: SeveritySchema,
  /** One sentence that stands alone in a log line, e.g. "null rate 0.05 > 0.001". */
  detail: z.string(),
  /** `ask`: a blocking failure of this check waits for reviewers to override it (the gate's onFail). */
  onFail: OnFailSchema.optional(),
});
/** A data gate's check: the shared Check (./check.ts), its gate one of the data gates. */
export type GateCheck = z.infer<typeof GateCheckSchema> & Check;

/** Two reviewers' override of the failed checks of gates that ask (src/api/gate-override.ts GateOverride). */
export const GateOverrideSchema = z.object({
  /** The failed checks it overrode, as `gate(subject)`. */
  checks: z.array(z.string()).nonempty(),
  /** The two reviewers who agreed, the one who proposed it first. */
  overriddenBy: z
    .array(z.object({ reviewer: z.string().min(1), reason: z.string().min(1), at: z.iso.datetime() }))
    .length(2),
});

export const GateReportSchema = z.object({
  contract: z.string(),
  contractVersion: z.string(),
  batchId: z.string(),
  asOf: z.string(),
  checks: z.array(GateCheckSchema),
  blockingFailures: z.number().int().nonnegative(),
  /** Failed checks of warning severity. */
  warnings: z.number().int().nonnegative(),
  /** True when no blocking check failed; warnings never stop the pipeline. */
  passed: z.boolean(),
  /** Set when two reviewers overrode the failed checks of gates marked `onFail: 'ask'`. */
  override: GateOverrideSchema.optional(),
});
export type GateReport = z.infer<typeof GateReportSchema>;

export function buildGateReport(args: {
  contract: { name: string; version: string };
  batchId: string;
  asOf: Date;
  checks: GateCheck[];
}): GateReport {
  const failed = args.checks.filter((c) => c.verdict === 'fail');
  const blockingFailures = failed.filter((c) => c.severity === 'blocking').length;
  return {
    contract: args.contract.name,
    contractVersion: args.contract.version,
    batchId: args.batchId,
    asOf: args.asOf.toISOString(),
    checks: args.checks,
    blockingFailures,
    warnings: failed.length - blockingFailures,
    passed: blockingFailures === 0,
  };
}

/** "completeness(delay)", or just the gate when the subject is the whole dataset. */
/** Blocking failures first, then failed warnings, then the rest in evaluation order (stable sort). */
function rank(check: GateCheck): number {
  if (check.verdict !== 'fail') return 2;
  return check.severity === 'blocking' ? 0 : 1;
}

/** A fixed-width table for logs, error messages and the CLI; the detail column is last so it may run long. */
export function formatGateReport(report: GateReport): string {
  const status = report.passed ? 'PASSED' : 'FAILED';
  const header =
    `quality gates ${report.contract}@${report.contractVersion} batch ${report.batchId} as of ${report.asOf}: ` +
    `${status} (${report.blockingFailures} blocking failures, ${report.warnings} warnings, ${report.checks.length} checks)`;
  const rows = [...report.checks]
    .sort((a, b) => rank(a) - rank(b))
    .map((c) => [c.verdict.toUpperCase(), c.severity, c.gate, c.subject, c.observed, c.expected, c.detail]);
  const table = [['VERDICT', 'SEVERITY', 'GATE', 'SUBJECT', 'OBSERVED', 'EXPECTED', 'DETAIL'], ...rows];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const lines = table.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
  return [header, ...lines].join('\n');
}

/** One line naming every blocking failure, for a workflow failure message. */
export function summarizeFailures(report: GateReport): string {
  return summarizeChecks(report.checks) || 'no blocking failures';
}
