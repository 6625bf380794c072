import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { approvalView, startTraining } from '../client/training';
import { workflowUiUrl } from '../temporal/ui-links';
import { pythonVersion, PythonEnvError } from '../training/python-env';
import { outcomeText, untilApprovalOrEnd } from './run-outcome';

type Say = (text: string) => void;

/**
 * The flights LightGBM challenger (spec flights-lgbm) trained by its bundled Python trainer on the
 * same window, compared with the production model on the same test rows: the demo reports the
 * decision, whichever it is. Without Python it says so and skips: nothing else needs it.
 */
export async function challengerDemo(
  client: Client,
  config: Config,
  say: Say,
  window: { from: string; to: string },
): Promise<void> {
  try {
    say(`   Python ${await pythonVersion(config.MLPIPE_PYTHON)} (${config.MLPIPE_PYTHON})`);
  } catch (error) {
    if (!(error instanceof PythonEnvError)) throw error;
    say(`   skipped: ${error.message}`);
    return;
  }
  const handle = await startTraining(client, config, {
    spec: 'flights-lgbm',
    ...window,
    initiatedBy: 'ana',
    reason: 'demo: a LightGBM challenger from a Python trainer',
  });
  say(`   started ${handle.workflowId}: trainers/flight_delay_lgbm.py in an environment made from PyPI on first use`);
  const outcome = await untilApprovalOrEnd(handle);
  say(`   ${outcomeText(outcome)}`);
  if (outcome.state === 'awaiting approval') {
    const model = (await approvalView(client, handle.workflowId)).skew?.model;
    if (model?.kind === 'onnx')
      say(
        `   ONNX in Node against the trainer's own test scores: max |difference| ${model.trainerParity.maxAbsDifference.toExponential(1)} on ${model.trainerParity.rows} rows; mlpipe review ${handle.workflowId}`,
      );
  }
  say(`   Temporal UI: ${workflowUiUrl(config.TEMPORAL_UI_URL, config.TEMPORAL_NAMESPACE, handle.workflowId)}`);
}
