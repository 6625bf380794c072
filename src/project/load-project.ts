import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { specDefinedIn } from '../api/spec';
import { SpecSchema, type SpecInput } from '../specs/spec-schema';
import { formatZodError } from '../validation';
import { CONFIG_FILE, ProjectConfigError } from './project-dir';
import { internalImports } from './project-imports';

const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

/** The config file's shape; each spec is then checked against SpecSchema on its own, to name it. */
const ProjectConfigSchema = z
  .object({ specs: z.array(z.unknown()).min(1, 'a project lists at least one spec') })
  .strict();

export interface Project {
  dir: string;
  configFile: string;
  specs: SpecInput[];
}

/**
 * Loads and validates a project (the folder of an mlpipe.config.ts): its files import only the public
 * API, its config has the expected shape, every spec passes the spec schema, and no two specs share a
 * name. Any problem is a ProjectConfigError naming the file and the field, and nothing is loaded.
 */
export async function loadProject(dir: string): Promise<Project> {
  const configFile = path.join(dir, CONFIG_FILE);
  const internal = internalImports(configFile, PACKAGE_ROOT);
  if (internal.length)
    throw new ProjectConfigError(
      internal
        .map(
          (i) =>
            `${i.file}: imports '${i.specifier}', an internal module: import only from 'temporal-ml-pipelines' (its public API)`,
        )
        .join('\n'),
    );
  let loaded: { default?: unknown };
  try {
    loaded = (await import(pathToFileURL(configFile).href)) as { default?: unknown };
  } catch (error) {
    throw new ProjectConfigError(`${configFile}: does not load: ${(error as Error).message}`);
  }
  // A CommonJS-compiled config nests the default export once more.
  let config = loaded.default;
  if (config && typeof config === 'object' && 'default' in config && !('specs' in config))
    config = (config as { default: unknown }).default;
  const parsed = ProjectConfigSchema.safeParse(config);
  if (!parsed.success)
    throw new ProjectConfigError(
      `${configFile}: ${config === undefined ? 'no default export (export default defineProject({ specs: [...] }))' : formatZodError(parsed.error)}`,
    );
  const specs: SpecInput[] = [];
  const seen = new Map<string, number>();
  for (const [i, raw] of parsed.data.specs.entries()) {
    const where = specDefinedIn(raw) ?? configFile;
    const spec = SpecSchema.safeParse(raw);
    if (!spec.success)
      throw new ProjectConfigError(`${where}: spec ${i} of ${CONFIG_FILE}: ${formatZodError(spec.error)}`);
    const earlier = seen.get(spec.data.name);
    if (earlier !== undefined)
      throw new ProjectConfigError(
        `${where}: name: a second spec named "${spec.data.name}" (specs[${earlier}] and specs[${i}] of ${configFile})`,
      );
    seen.set(spec.data.name, i);
    specs.push(raw as SpecInput);
  }
  return { dir, configFile, specs };
}
