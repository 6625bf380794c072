import { z } from 'zod';
import type { Column } from '../specs/contract-schema';

/** Rows per request: enough for a page of flights or a skew-check batch, small enough to answer fast. */
export const MAX_ROWS_PER_REQUEST = 100;

/** A request row value, typed per its contract column. */
export type RequestValue = string | number | boolean | null;
export type RequestRow = Record<string, RequestValue>;

/**
 * The body of POST /predict before the model is known: enough to find the model's spec, whose
 * contract then types the rows (see predictRequestSchema).
 */
export const PredictEnvelopeSchema = z
  .object({
    /** The registry name of the model, e.g. flight-delay. */
    model: z.string().min(1).max(100),
    stage: z.enum(['production', 'staging']).default('production'),
    /** A registered version, served whatever its stage: overrides `stage`. */
    version: z.number().int().positive().optional(),
    /** Echoed back and written to the prediction log; one is generated when absent. */
    requestId: z.string().min(1).max(200).optional(),
    rows: z.array(z.record(z.string(), z.unknown())).min(1).max(MAX_ROWS_PER_REQUEST),
  })
  .strict();

export type PredictRequest = Omit<z.output<typeof PredictEnvelopeSchema>, 'rows'> & { rows: RequestRow[] };

/** The full request of one model: each row carries exactly its serving input columns. */
export function predictRequestSchema(columns: readonly Column[]): z.ZodType<PredictRequest> {
  const row = z.strictObject(Object.fromEntries(columns.map((c) => [c.name, columnSchema(c)])));
  return PredictEnvelopeSchema.extend({ rows: z.array(row).min(1).max(MAX_ROWS_PER_REQUEST) });
}

/**
 * A request value under the column's contract rules: type, nullability, numeric range, allowed
 * set, length. Timestamps are ISO date-times with or without an offset; like ingestion's cast to
 * TIMESTAMP, the wall-clock time is what counts (the contract's times are local).
 */
function columnSchema(c: Column): z.ZodType<RequestValue> {
  const schema = nonNullSchema(c);
  return c.nullable ? schema.nullable() : schema;
}

function nonNullSchema(c: Column): z.ZodType<Exclude<RequestValue, null>> {
  switch (c.type) {
    case 'string': {
      // Ingestion reads blank text as no value; here that is a missing value, not a string.
      let s = z.string().refine((v) => v.trim() !== '', 'must not be blank');
      if (c.maxLength !== undefined) s = s.max(c.maxLength);
      const allowed = c.allowed;
      if (allowed) s = s.refine((v) => allowed.includes(v), `must be one of ${allowed.join(', ')}`);
      return s;
    }
    case 'integer':
      return bounded(z.number().int(), c);
    case 'double':
      return bounded(z.number(), c);
    case 'boolean':
      return z.boolean();
    case 'timestamp':
      return z.iso.datetime({ offset: true, local: true });
    case 'date':
      return z.iso.date();
  }
}

function bounded(schema: z.ZodNumber, c: Column): z.ZodNumber {
  let s = schema;
  if (typeof c.min === 'number') s = s.min(c.min);
  if (typeof c.max === 'number') s = s.max(c.max);
  return s;
}
