import { isPartition } from '../features/partition-dates';
import type { Contract } from './contract-schema';

/**
 * The day a batch of a daily dataset holds: its id, which must be a calendar day (YYYY-MM-DD);
 * undefined for a snapshot dataset, whose batch ids are free. Throws naming the dataset otherwise.
 */
export function deliveryDay(contract: Contract, batchId: string): string | undefined {
  if (contract.partitioning !== 'daily') return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(batchId) && isPartition(batchId)) return batchId;
  throw new Error(
    `${contract.name} is a daily dataset: a batch id is the day the delivery holds (YYYY-MM-DD), not "${batchId}"`,
  );
}
