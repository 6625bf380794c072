import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config';
import { loadProject, type Project } from '../project/load-project';
import { checkSpecVersions } from '../project/spec-versions-check';
import { openMetadataStore } from '../store/database';
import { resolveProjectDir } from '../project/project-dir';
import { useSpecs } from '../specs';

/** Commands that never read specs, so never load a project (init creates one). */
const WITHOUT_PROJECT = new Set(['init']);

/** Commands that start runs (or a worker or server that will), so pin the spec versions they use. */
const STARTS_RUNS = new Set(['worker', 'run', 'backfill', 'monitor', 'create', 'ingest', 'train', 'demo', 'serve']);

let current: Project | undefined;

/** The project this process loaded, if any (undefined: the bundled example specs). */
export function currentProject(): Project | undefined {
  return current;
}

/**
 * `--project <dir>` on every command: before a command runs, the project (the flag, MLPIPE_PROJECT,
 * or the current folder) is loaded and validated, its specs replace the bundled examples, and its
 * data lives in `<project>/data` unless MLPIPE_DATA_DIR says otherwise. A spec edited without a
 * version bump since runs used it is refused (src/project/spec-versions-check.ts). The worker,
 * schedules and the prediction server started from this CLI use the same specs.
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
    const project = await loadProject(dir);
    process.env.MLPIPE_DATA_DIR ||= path.join(dir, 'data');
    const store = await openMetadataStore(loadConfig().databaseUrl);
    try {
      await checkSpecVersions(project, store, STARTS_RUNS.has(command.name()));
    } finally {
      await store.close();
    }
    useSpecs(project.specs);
    current = project;
  });
}
