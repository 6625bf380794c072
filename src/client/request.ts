import { z } from 'zod';
import { isPartition } from '../features/partition-dates';
import { formatZodError } from '../validation';

/** A request refused before anything reached Temporal: the CLI prints it as a usage error (exit 2). */
export class InvalidRequestError extends Error {
  override name = 'InvalidRequestError';
}

/** What an engineer asked for, checked against its schema: the parsed request, or every problem in one error. */
export function parseRequest<S extends z.ZodType>(schema: S, request: unknown): z.output<S> {
  const parsed = schema.safeParse(request);
  if (!parsed.success) throw new InvalidRequestError(formatZodError(parsed.error));
  return parsed.data;
}

/** A day in a request: YYYY-MM-DD and a day of the calendar (2001-02-30 is refused). */
export const DaySchema = z.string().refine(isPartition, 'expected a day as YYYY-MM-DD');
