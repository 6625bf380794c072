import type { SpecInput } from '../specs/spec-schema';

export type { SpecInput };
/** The parts of a spec, for specs written over several files. */
export type FeatureSetInput = NonNullable<SpecInput['featureSet']>;
export type FeatureInput = FeatureSetInput['features'][number];
export type ModelSpecInput = NonNullable<SpecInput['model']>;

/** Where each spec object was defined, for error messages (a global symbol: one project may load two copies of this module). */
const DEFINED_IN = Symbol.for('temporal-ml-pipelines.definedIn');

/**
 * A spec, as a project's spec file writes it: `export default defineSpec({ ... })`. It only types the
 * object and remembers the file that defined it; the project loader (src/project) validates it and
 * names that file and the field in any error.
 */
export function defineSpec(spec: SpecInput): SpecInput {
  const file = callerFile();
  if (file) Object.defineProperty(spec, DEFINED_IN, { value: file, enumerable: false });
  return spec;
}

/** The file a spec object was defined in (defineSpec's caller), if known. */
export function specDefinedIn(spec: unknown): string | undefined {
  return typeof spec === 'object' && spec !== null
    ? ((spec as Record<symbol, string | undefined>)[DEFINED_IN] ?? undefined)
    : undefined;
}

/** A project's configuration file (`mlpipe.config.ts`): `export default defineProject({ specs: [...] })`. */
export interface ProjectConfig {
  /** The project's specs; names are unique within a project. */
  specs: SpecInput[];
}

export function defineProject(config: ProjectConfig): ProjectConfig {
  return config;
}

/** The file of the function that called defineSpec, read from the stack (tsx maps it back to the .ts file). */
function callerFile(): string | undefined {
  const frames = (new Error().stack ?? '').split('\n').slice(3);
  const match = frames[0]?.match(/\(?((?:file:\/\/)?\/[^():]+):\d+:\d+\)?$/);
  return match?.[1]?.replace(/^file:\/\//, '');
}
