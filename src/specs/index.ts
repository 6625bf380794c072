import { SpecSchema, type Spec, type SpecInput } from './spec-schema';
import { flightsSpec } from './flights';
import { flightsLgbmSpec } from './flights-lgbm';
import { flightsNightlySpec } from './flights-nightly';
import { weatherSpec } from './weather';
import { formatZodError } from '../validation';

const registry: Record<string, SpecInput> = {
  flights: flightsSpec,
  'flights-lgbm': flightsLgbmSpec,
  'flights-nightly': flightsNightlySpec,
  weather: weatherSpec,
};

/**
 * Adds a spec at run time (a variant with other gates, a team's own spec): validated first, and never
 * replacing a bundled one. Workers see it only in their own process, so start workers after this.
 */
export function registerSpec(input: SpecInput): Spec {
  const spec = parseSpec(input);
  if (registry[spec.name]) throw new Error(`spec "${spec.name}" already exists`);
  registry[spec.name] = input;
  return spec;
}

/**
 * Makes `specs` the only specs of this process: a user project's replace the bundled examples. The
 * specs must have been validated (src/project/load-project.ts does, naming file and field).
 */
export function useSpecs(specs: SpecInput[]): void {
  for (const name of Object.keys(registry)) delete registry[name];
  for (const spec of specs) registry[spec.name] = spec;
}

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
