import * as z from 'zod/mini';

export const RollbackInputSchema = z.object({
  spec: z.string().check(z.minLength(1), z.maxLength(100)),
  toVersion: z.number().check(z.int(), z.positive()),
  requestedBy: z.string().check(z.regex(/^[A-Za-z0-9._@-]{1,100}$/)),
  reason: z.string().check(z.minLength(1), z.maxLength(2000)),
});
export type RollbackInput = z.infer<typeof RollbackInputSchema>;

export interface RollbackResult {
  modelName: string;
  version: number;
  previous?: number;
}

export type ModelRollback = (input: RollbackInput) => Promise<RollbackResult>;
