import { addDays } from '../src/features/partition-dates';
import { baselineKind, type Contract } from '../src/specs/contract-schema';
import { deliveryDay } from '../src/specs/delivery-day';
import type { RunStat, RunStatsRepository } from '../src/store/run-stats';

/**
 * The published runs a batch's volume is compared with, newest first: for a `sameWeekday` baseline the
 * days 7, 14, ... 7 x lookback days before the batch's day (those never published are simply absent:
 * a missing week narrows the baseline, it does not reach further back); otherwise the last `lookback`
 * published runs.
 */
export async function baselineRuns(
  runStats: RunStatsRepository,
  contract: Contract,
  batchId: string,
  lookback: number,
): Promise<RunStat[]> {
  if (baselineKind(contract) === 'recentRuns') return runStats.trailingPublished(contract.name, lookback, batchId);
  // The schema allows sameWeekday on daily datasets only, and ingestion has already refused a batch id that is not a day.
  const day = deliveryDay(contract, batchId)!;
  const weeksBefore = Array.from({ length: lookback }, (_, week) => addDays(day, -7 * (week + 1)));
  const runs = await runStats.publishedBatches(contract.name, weeksBefore);
  return runs.sort((a, b) => b.batchId.localeCompare(a.batchId));
}
