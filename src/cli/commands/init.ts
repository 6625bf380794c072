import type { Command } from 'commander';
import { scaffoldProject } from '../../project/scaffold';
import { action } from '../output';

export function registerInit(program: Command): void {
  const cmd = program
    .command('init')
    .description('make a new project: a config, one example spec, a sample of its data and a README')
    .argument('<dir>', 'a new or empty folder');
  cmd.action(
    action(cmd, async ({ print }, dir: string) => {
      const made = scaffoldProject(dir);
      print(
        [
          `project made in ${made.dir}:`,
          ...made.files.map((f) => `  ${f}`),
          ...(made.linkedPackage ? [`linked ${made.linkedPackage} to this mlpipe`] : []),
          `next: cd ${dir} && read README.md`,
        ].join('\n'),
        made,
      );
    }),
  );
}
