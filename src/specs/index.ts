import { SpecSchema, type Spec, type SpecInput } from './spec-schema';
import { flightsSpec } from './flights';
import { formatZodError } from '../validation';

const registry: Record<string, SpecInput> = { flights: flightsSpec };

export function specNames(): string[] {
  return Object.keys(registry).sort();
}

/** Validates a spec; a spec that fails validation never reaches a pipeline. */
export function parseSpec(input: unknown): Spec {
  const parsed = SpecSchema.safeParse(input);
  if (!parsed.success) throw new Error(`invalid spec: ${formatZodError(parsed.error)}`);
  return parsed.data;
}

export function loadSpec(name: string): Spec {
  const input = registry[name];
  if (!input) throw new Error(`unknown spec "${name}" (known: ${specNames().join(', ')})`);
  return parseSpec(input);
}
