import { defineProject } from 'temporal-ml-pipelines';
import weather from './specs/weather';

/**
 * This project's specs: the worker, the CLI, schedules and the prediction server started in this folder
 * (or with --project / MLPIPE_PROJECT pointing at it) load them, validated at start.
 */
export default defineProject({
  specs: [weather],
});
