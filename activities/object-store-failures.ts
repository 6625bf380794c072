import { ApplicationFailure } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { ErrorTypes } from '../src/api/errors';
import { ArtifactCorrupt } from '../src/data/object-mirror';
import { ObjectStoreError } from '../src/data/object-store';

/**
 * Object-store failures that no retry can fix become non-retryable with a type of their own: wrong
 * credentials, a missing bucket, a published artifact whose objects are gone or changed. An unreachable
 * server stays retryable (the activity's retry policy backs off, then fails with the last message).
 */
export const objectStoreFailuresInterceptor: ActivityInterceptorsFactory = () => ({
  inbound: {
    async execute(input, next) {
      try {
        return await next(input);
      } catch (error) {
        throw permanent(error) ?? error;
      }
    },
  },
});

function permanent(error: unknown): ApplicationFailure | undefined {
  if (error instanceof ArtifactCorrupt)
    return ApplicationFailure.nonRetryable(error.message, ErrorTypes.ArtifactCorrupt);
  if (!(error instanceof ObjectStoreError)) return undefined;
  if (error.kind === 'access-denied')
    return ApplicationFailure.nonRetryable(error.message, ErrorTypes.ObjectStoreAccessDenied);
  if (error.kind === 'no-such-bucket')
    return ApplicationFailure.nonRetryable(error.message, ErrorTypes.ObjectStoreBucketMissing);
  return undefined;
}
