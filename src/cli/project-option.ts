import path from 'node:path';
import type { Command } from 'commander';
import { loadProject, type Project } from '../project/load-project';
import { resolveProjectDir } from '../project/project-dir';
import { useSpecs } from '../specs';

/** Commands that never read specs, so never load a project (init creates one). */
const WITHOUT_PROJECT = new Set(['init']);

let current: Project | undefined;

/** The project this process loaded, if any (undefined: the bundled example specs). */
export function currentProject(): Project | undefined {
  return current;
}

/**
 * `--project <dir>` on every command: before a command runs, the project (the flag, MLPIPE_PROJECT,
 * or the current folder) is loaded and validated, its specs replace the bundled examples, and its
 * data lives in `<project>/data` unless MLPIPE_DATA_DIR says otherwise. The worker, schedules and the
 * prediction server started from this CLI use the same specs.
 */
export function registerProjectOption(program: Command): void {
  program.option(
    '--project <dir>',
    'the project folder (holds mlpipe.config.ts); default: MLPIPE_PROJECT, or the current folder',
  );
  program.hook('preAction', async (_program, command) => {
    if (WITHOUT_PROJECT.has(command.name())) return;
    const dir = resolveProjectDir(program.opts<{ project?: string }>().project, process.env, process.cwd());
    if (!dir) return;
    current = await loadProject(dir);
    useSpecs(current.specs);
    process.env.MLPIPE_DATA_DIR ||= path.join(dir, 'data');
  });
}
