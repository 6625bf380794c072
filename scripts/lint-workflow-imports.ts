/**
 * `npm run lint`: keeps Node built-ins and non-deterministic modules out of workflow code.
 *
 * Walks every file the workflow bundle can reach from its entry point (workflows/index.ts), as the
 * bundler would, following relative imports into src/ (src/api and the few pure helpers the workflows
 * use), and refuses:
 * - a Node built-in (`node:fs`, `crypto`, ...): the sandbox has none, and they are where clocks,
 *   randomness and I/O live;
 * - a package not on WORKFLOW_PACKAGES (a logger, a database, DuckDB, a random id generator...);
 * - a value import of activities/ (workflows call activities through proxies: `import type` only).
 * Type-only imports are erased from the bundle and are allowed. The bundler refuses built-ins only
 * when the bundle is built (at worker start); this says so at lint time, naming the file and import.
 */
import { builtinModules } from 'node:module';
import path from 'node:path';
import { walkImports } from '../src/project/import-specifiers';

/** What workflow code may import at run time: the SDK's sandboxed API and zod's small build. */
export const WORKFLOW_PACKAGES = ['@temporalio/workflow', '@temporalio/common', 'zod/mini'];

export interface ImportProblem {
  file: string;
  specifier: string;
  why: string;
}

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

export interface LintResult {
  /** The files the bundle can reach, relative to the root. */
  files: string[];
  problems: ImportProblem[];
}

/** The files reachable from `entry` (an absolute path) and every problem in them; paths relative to `root`. */
export function lintWorkflowImports(entry: string, root: string): LintResult {
  const problems: ImportProblem[] = [];
  const files = walkImports(entry, (file, { specifier, typeOnly }, target) => {
    if (typeOnly) return false;
    const problem = (why: string) => problems.push({ file: path.relative(root, file), specifier, why });
    if (specifier.startsWith('.')) {
      if (!target) problem('does not resolve to a file');
      else if (path.relative(root, target).split(path.sep)[0] === 'activities')
        problem(
          'a value import of activities/: workflows reach activities through proxyActivities, with `import type`',
        );
      else return true;
    } else if (BUILTINS.has(specifier) || BUILTINS.has(specifier.split('/')[0]!)) {
      problem('a Node built-in: the workflow sandbox has none (clocks, randomness and I/O belong in activities)');
    } else if (!WORKFLOW_PACKAGES.includes(specifier)) {
      problem(
        `a package outside the workflow allow-list (${WORKFLOW_PACKAGES.join(', ')}): move the work into an activity, or use \`import type\``,
      );
    }
    return false;
  });
  return { files: files.map((f) => path.relative(root, f)), problems };
}

if (require.main === module) {
  const root = path.resolve(__dirname, '..');
  const { files, problems } = lintWorkflowImports(path.join(root, 'workflows', 'index.ts'), root);
  for (const p of problems) console.error(`${p.file}: import '${p.specifier}': ${p.why}`);
  if (problems.length) process.exit(1);
  console.log(
    `workflow imports: ${files.length} files, no Node built-ins, no packages outside the allow-list, activities by type only`,
  );
}
