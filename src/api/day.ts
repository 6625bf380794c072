import * as z from 'zod/mini';
import { isPartition } from '../features/partition-dates';

/** A day in workflow inputs: checked when the run starts, not first by the activity that uses it (2001-02-30 is refused). */
export const day = z
  .string()
  .check(
    z.regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a day as YYYY-MM-DD'),
    z.refine(isPartition, 'not a day of the calendar'),
  );
