import { ApplicationFailure } from '@temporalio/workflow';
import * as z from 'zod/mini';
import { ErrorTypes } from '../src/api/errors';

// zod/mini carries no messages of its own ("Invalid input" for every problem): the English ones say what is wrong.
z.config(z.locales.en());

/** A workflow's input checked against its schema, or a non-retryable InvalidInput naming every problem. */
export function parseWorkflowInput<T>(schema: z.ZodMiniType<T>, raw: unknown, what: string): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success)
    throw invalidInput(what, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data;
}

/** The failure for an input its schema accepts but the workflow cannot run (e.g. a range that ends before it starts). */
export function invalidInput(what: string, why: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`invalid ${what}: ${why}`, ErrorTypes.InvalidInput);
}
