import type { Contract, Gates } from '../specs/contract-schema';
import { maxCheck, skippedCheck } from './checks';
import type { GateCheck, IngestStats } from './gate-report';
import { formatNumber, median, rate, withinBand } from './gate-math';

/**
 * Gates judged from ingestion's own counts: the rows they describe were rejected and never reach the
 * accepted Parquet, so these numbers are the only record of them.
 */

/** Every row of the source was read, and every row read was either accepted or rejected. */
export function reconciliationChecks(stats: IngestStats): GateCheck[] {
  const target = { gate: 'reconciliation', subject: 'dataset', severity: 'blocking' } as const;
  const { sourceRows, rowsRead, rowsAccepted, rowsRejected } = stats;
  const outcome = rowsAccepted + rowsRejected;
  const split = `accepted ${rowsAccepted} + rejected ${rowsRejected}`;
  return [
    {
      ...target,
      observed: `read ${rowsRead}, accepted + rejected ${outcome}`,
      expected: 'read == accepted + rejected',
      verdict: rowsRead === outcome ? 'pass' : 'fail',
      detail: `read ${rowsRead} ${rowsRead === outcome ? '==' : '!='} ${split}`,
    },
    {
      ...target,
      observed: `source ${sourceRows}, read ${rowsRead}`,
      expected: 'source == read',
      verdict: sourceRows === rowsRead ? 'pass' : 'fail',
      detail: `source ${sourceRows} ${sourceRows === rowsRead ? '==' : '!='} read ${rowsRead}`,
    },
  ];
}

export function completenessChecks(
  config: NonNullable<Gates['completeness']>,
  contract: Contract,
  stats: IngestStats,
): GateCheck[] {
  return contract.columns.map((column) => {
    const nulls = stats.nullCounts[column.name] ?? 0;
    return maxCheck(
      { gate: 'completeness', subject: column.name, severity: config.severity },
      {
        label: 'null rate',
        value: rate(nulls, stats.rowsRead),
        max: config.columns[column.name] ?? config.default,
        context: `${nulls} of ${stats.rowsRead}`,
      },
    );
  });
}

/**
 * Accepted rows against the median of the baseline: the last `lookback` published runs of the same
 * contract, or the same weekday of the last `lookback` weeks for a daily dataset.
 */
export function volumeCheck(
  config: NonNullable<Gates['volume']>,
  stats: IngestStats,
  history: readonly number[],
  /** The baseline in words, e.g. "4 earlier Mondays". */
  baselineName: string,
): GateCheck {
  const target = { gate: 'volume', subject: 'dataset', severity: config.severity } as const;
  const band = `[${config.minRatio}, ${config.maxRatio}] x median`;
  if (history.length === 0 || history.length < config.minHistory) {
    return skippedCheck(target, `within ${band} of earlier runs`, `no baseline yet (${baselineName})`);
  }
  const baseline = median(history);
  const ok = withinBand(stats.rowsAccepted, baseline, config.minRatio, config.maxRatio);
  const observed = `rows ${stats.rowsAccepted}`;
  return {
    ...target,
    observed,
    expected: `within ${band} ${formatNumber(baseline)}`,
    verdict: ok ? 'pass' : 'fail',
    detail: `${observed} ${ok ? 'within' : 'outside'} ${band} ${formatNumber(baseline)} of ${baselineName}`,
  };
}

export function rejectRateCheck(config: NonNullable<Gates['rejectRate']>, stats: IngestStats): GateCheck {
  // Naming the rule that rejected most rows tells the reader where to look first.
  const top = Object.entries(stats.ruleCounts).sort((a, b) => b[1] - a[1])[0];
  const most = top && top[1] > 0 ? `; most: ${top[0]} ${top[1]}` : '';
  return maxCheck(
    { gate: 'rejectRate', subject: 'dataset', severity: config.severity },
    {
      label: 'reject rate',
      value: rate(stats.rowsRejected, stats.rowsRead),
      max: config.max,
      context: `${stats.rowsRejected} of ${stats.rowsRead}${most}`,
    },
  );
}

/** Ingestion rejected rows whose value is missing from a reference table; this decides whether that many is tolerable. */
export function referentialIntegrityChecks(contract: Contract, stats: IngestStats): GateCheck[] {
  return contract.references.flatMap((reference) => {
    const table = reference.uri.split('/').pop() ?? reference.uri;
    return reference.columns.map((column) => {
      const missing = stats.ruleCounts[`${column}:reference`] ?? 0;
      return maxCheck(
        { gate: 'referentialIntegrity', subject: column, severity: reference.severity },
        {
          label: 'missing rate',
          value: rate(missing, stats.rowsRead),
          max: reference.maxMissingRate,
          context: `${missing} of ${stats.rowsRead} not in ${table}.${reference.key}`,
        },
      );
    });
  });
}
