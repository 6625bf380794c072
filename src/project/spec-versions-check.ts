import crypto from 'node:crypto';
import { specDefinedIn } from '../api/spec';
import { SpecSchema } from '../specs/spec-schema';
import type { MetadataStore } from '../store/database';
import type { Project } from './load-project';
import { ProjectConfigError } from './project-dir';

/** What a spec means: the parsed spec (defaults applied) without its prose, as canonical JSON. */
export function specDefinitionHash(input: unknown): string {
  const withoutProse = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(withoutProse);
    if (value && typeof value === 'object')
      return Object.fromEntries(
        Object.keys(value)
          .filter((key) => key !== 'description')
          .sort()
          .map((key) => [key, withoutProse((value as Record<string, unknown>)[key])]),
      );
    return value;
  };
  return crypto
    .createHash('sha256')
    .update(JSON.stringify(withoutProse(SpecSchema.parse(input))))
    .digest('hex');
}

/**
 * Refuses a project whose spec was edited (beyond its descriptions) without a version bump since runs
 * used that version: their results mean the old definition, and new runs under the same version
 * would mean something else. With `pin`, the command is about to start runs, so each spec version
 * not seen before is pinned to its current definition; until then a spec can be edited freely.
 */
export async function checkSpecVersions(project: Project, store: MetadataStore, pin: boolean): Promise<void> {
  for (const input of project.specs) {
    const where = specDefinedIn(input) ?? project.configFile;
    const hash = specDefinitionHash(input);
    // Pin first, then read back: of two processes pinning different definitions, the later is refused.
    if (pin) await store.specs.pin(input.name, input.version, hash, where);
    const pinned = await store.specs.pinned(input.name, input.version);
    if (pinned && pinned.definitionHash !== hash)
      throw new ProjectConfigError(
        `${where}: version: spec ${input.name} ${input.version} was first used on ${pinned.pinnedAt.slice(0, 10)} with another definition` +
          `${pinned.definedIn ? ` (from ${pinned.definedIn})` : ''}; bump its version to change what it means`,
      );
  }
}
