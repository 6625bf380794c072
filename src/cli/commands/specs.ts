import type { Command } from 'commander';
import { loadSpec, specNames } from '../../specs';
import { action, table } from '../output';
import { currentProject } from '../project-option';

export function registerSpecs(program: Command): void {
  const cmd = program
    .command('specs')
    .description("the specs in use (the project's, validated; else the bundled examples)");
  cmd.action(
    action(cmd, async ({ print }) => {
      const specs = specNames().map(loadSpec);
      const project = currentProject();
      const rows = specs.map((s) => [s.name, s.version, s.model?.name ?? '-', s.defaultSource ?? '-', s.description]);
      print(
        `${project ? `project ${project.dir}` : 'no project here: the bundled examples'}\n${table(['spec', 'version', 'model', 'default source', 'description'], rows)}`,
        {
          project: project?.dir ?? null,
          specs: specs.map((s) => ({ name: s.name, version: s.version, model: s.model?.name })),
        },
      );
    }),
  );
}
