import path from 'node:path';
import { walkImports } from './import-specifiers';

export const PACKAGE_NAME = 'temporal-ml-pipelines';

/**
 * What a project's own files import that they must not: anything of this package but its public API
 * (`temporal-ml-pipelines/<path>`, or a relative path out of the project into the package's files).
 * Internals change without notice; a spec built on them breaks on the next upgrade, or silently
 * bypasses validation. Walks relative imports from the config file, staying inside the project.
 */
export function internalImports(configFile: string, packageRoot: string): { file: string; specifier: string }[] {
  const projectDir = path.dirname(configFile);
  const inside = (dir: string, file: string) => !path.relative(dir, file).startsWith('..');
  const problems: { file: string; specifier: string }[] = [];
  walkImports(configFile, (file, { specifier }, target) => {
    const leavesForPackage = !!target && inside(packageRoot, target) && !inside(projectDir, target);
    if (specifier.startsWith(`${PACKAGE_NAME}/`) || leavesForPackage) problems.push({ file, specifier });
    return !!target && inside(projectDir, target) && target.endsWith('.ts');
  });
  return problems;
}
