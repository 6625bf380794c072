import { ApplicationFailure } from '@temporalio/activity';
import { loadTrainingSpec, type TrainingSpec } from '../src/training/training-spec';
import { ErrorTypes } from '../src/api/errors';

/**
 * The named spec with its model, or a non-retryable InvalidInput: specs live in code, so an unknown,
 * invalid or model-less spec fails the same way on every attempt.
 */
export function trainingSpecOrFail(name: string): TrainingSpec {
  try {
    return loadTrainingSpec(name);
  } catch (error) {
    throw ApplicationFailure.nonRetryable((error as Error).message, ErrorTypes.InvalidInput);
  }
}
