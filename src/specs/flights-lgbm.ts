import path from 'node:path';
import type { SpecInput } from './spec-schema';
import { flightsSpec } from './flights';
import { flightDelayModel } from './flights-model';

/**
 * The flights spec's LightGBM challenger: the same data, features, gates and reviewers as `flights`,
 * and the same registry model (flight-delay), so a candidate it trains is compared with whatever is
 * in production, the built-in logistic regression included. Trained by a bundled Python trainer
 * (trainers/flight_delay_lgbm.py) in an environment the project provisions from PyPI.
 */
export const flightsLgbmSpec: SpecInput = {
  ...flightsSpec,
  name: 'flights-lgbm',
  description: 'The flight-delay model as gradient-boosted trees (LightGBM), from a Python trainer.',
  model: {
    ...flightDelayModel,
    hyperParameters: undefined,
    trainer: {
      directory: path.join(__dirname, '..', '..', 'trainers'),
      command: ['python', 'flight_delay_lgbm.py'],
      requirements: 'requirements.txt',
      hyperParameters: { num_boost_round: 200, checkpoint_every: 10, learning_rate: 0.05, num_leaves: 31 },
      progressTimeoutSeconds: 120,
    },
  },
};
