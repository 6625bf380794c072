import { ApplicationFailure } from '@temporalio/activity';
import type { z } from 'zod';
import { formatZodError } from '../src/validation';
import { ErrorTypes } from '../src/api/errors';

/** Validates an activity's argument; a malformed one fails for good, since a retry would get it again. */
export function parseInput<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success)
    throw ApplicationFailure.nonRetryable(`invalid input: ${formatZodError(parsed.error)}`, ErrorTypes.InvalidInput);
  return parsed.data;
}
