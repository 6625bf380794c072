import { Command } from 'commander';
import { registerAlerts } from './commands/alerts';
import { registerDaily } from './commands/daily';
import { registerDemo } from './commands/demo';
import { registerFeatures } from './commands/features';
import { registerGate } from './commands/gate';
import { registerSchedule } from './commands/schedule';
import { registerServe } from './commands/serve';
import { registerIngest } from './commands/ingest';
import { registerModels } from './commands/models';
import { registerMonitor } from './commands/monitor';
import { registerScore } from './commands/score';
import { registerTraining } from './commands/training';
import { registerServer } from './commands/server';
import { registerStatus } from './commands/status';
import { registerWorker } from './commands/worker';
import { registerInit } from './commands/init';
import { registerSpecs } from './commands/specs';
import { registerProjectOption } from './project-option';
import { ProjectConfigError } from '../project/project-dir';

/** mlpipe: the client scripts engineers, reviewers and operators use. */
const program = new Command('mlpipe')
  .description('Temporal ML Pipelines: training, feature and monitoring pipelines as durable Temporal workflows')
  .option('--json', 'print machine-readable JSON instead of text')
  .showHelpAfterError()
  .exitOverride((error) => {
    // commander's own usage errors (unknown option, missing argument) exit 2, like ours.
    process.exit(error.exitCode === 0 ? 0 : 2);
  });

registerProjectOption(program);
registerInit(program);
registerSpecs(program);
registerServer(program);
registerWorker(program);
registerServe(program);
registerIngest(program);
registerDaily(program);
registerGate(program);
registerFeatures(program);
registerSchedule(program);
registerTraining(program);
registerModels(program);
registerMonitor(program);
registerScore(program);
registerStatus(program);
registerAlerts(program);
registerDemo(program);

program.parseAsync(process.argv).catch((error: Error) => {
  console.error(`mlpipe: ${error.message}`);
  // A project that does not validate is bad configuration, like a bad argument: exit 2.
  process.exitCode = error instanceof ProjectConfigError ? 2 : 1;
});
