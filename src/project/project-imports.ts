import fs from 'node:fs';
import path from 'node:path';
import { importSpecifiers } from './import-specifiers';

export const PACKAGE_NAME = 'temporal-ml-pipelines';

/**
 * What a project's own files import that they must not: anything of this package but its public API
 * (`temporal-ml-pipelines/<path>`, or a relative path out of the project into the package's files).
 * Internals change without notice; a spec built on them breaks on the next upgrade, or silently
 * bypasses validation. Walks relative imports from the config file, staying inside the project.
 */
export function internalImports(configFile: string, packageRoot: string): { file: string; specifier: string }[] {
  const projectDir = path.dirname(configFile);
  const problems: { file: string; specifier: string }[] = [];
  const seen = new Set<string>();
  const queue = [configFile];
  while (queue.length) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const { specifier } of importSpecifiers(file)) {
      if (specifier.startsWith(`${PACKAGE_NAME}/`)) problems.push({ file, specifier });
      if (!specifier.startsWith('.')) continue;
      const base = path.resolve(path.dirname(file), specifier);
      const target = [`${base}.ts`, path.join(base, 'index.ts'), base].find(
        (f) => fs.existsSync(f) && fs.statSync(f).isFile(),
      );
      const inside = (dir: string) => !!target && !path.relative(dir, target).startsWith('..');
      if (inside(packageRoot) && !inside(projectDir)) problems.push({ file, specifier });
      else if (target && inside(projectDir) && target.endsWith('.ts')) queue.push(target);
    }
  }
  return problems;
}
