import fs from 'node:fs';
import path from 'node:path';

export const CONFIG_FILE = 'mlpipe.config.ts';

/** A project that must not run: the message names the file and the field. */
export class ProjectConfigError extends Error {
  override name = 'ProjectConfigError';
}

/**
 * The project the CLI, worker, schedules and prediction server use: `--project`, else
 * `MLPIPE_PROJECT`, else the current folder if it holds mlpipe.config.ts; undefined means the bundled
 * example specs. A folder named explicitly must hold the config file.
 */
export function resolveProjectDir(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const named = flag ?? (env.MLPIPE_PROJECT || undefined);
  if (named) {
    const dir = path.resolve(cwd, named);
    if (!fs.existsSync(path.join(dir, CONFIG_FILE)))
      throw new ProjectConfigError(
        `${path.join(dir, CONFIG_FILE)}: not found (project named by ${flag ? '--project' : 'MLPIPE_PROJECT'})`,
      );
    return dir;
  }
  return fs.existsSync(path.join(cwd, CONFIG_FILE)) ? cwd : undefined;
}
