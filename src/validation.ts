import type { z } from 'zod';

/** One line per problem, naming where it is: "TEMPORAL_ADDRESS: expected host:port". */
export function formatZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
