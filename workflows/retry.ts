import type { RetryPolicy } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { NON_RETRYABLE_ERROR_TYPES } from '../src/api/errors';

/**
 * The retry policy of the project's activities: exponential backoff from 1 s, at most `maximumAttempts`
 * attempts, and never a retry of a failure raised on purpose (bad data, a bad model, a person's word).
 */
export function retryFor(maximumAttempts: number, maximumInterval: Duration = '1 minute'): RetryPolicy {
  return {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval,
    maximumAttempts,
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  };
}
