import {
  log,
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { Activities } from '../activities';
import { progressQuery, type PipelineProgress } from '../src/api/progress';
import { PipelineKind, PipelineStage } from '../src/api/search-attributes';
import type { Check } from '../src/quality/check';

const { notify } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

/**
 * The bookkeeping every pipeline run shares: the progress query, the live stage in the UI and in the
 * PipelineStage search attribute, and the rule that a failed step stops the run, raises an alert and
 * fails the workflow with the step's name and reason.
 */
export class PipelineRun {
  readonly progress: PipelineProgress;

  constructor(
    kind: string,
    private readonly subject: string,
    extra: SearchAttributeUpdatePair[] = [],
  ) {
    this.progress = { kind, stage: 'Starting', steps: [], artifacts: {} };
    setHandler(progressQuery, () => this.progress);
    upsertSearchAttributes([{ key: PipelineKind, value: kind }, { key: PipelineStage, value: 'Starting' }, ...extra]);
  }

  stage(name: string, details: string): void {
    log.info(`stage ${name}: ${details}`, { stage: name, subject: this.subject });
    this.progress.stage = name;
    upsertSearchAttributes([{ key: PipelineStage, value: name }]);
    setCurrentDetails(`**${name}**: ${details}`);
  }

  /** Runs one step; on failure nothing after it runs. */
  step<T>(name: string, details: string, work: () => Promise<T>, outcome: (result: T) => string): Promise<T> {
    return this.attempt(name, details, work, outcome, (error) => this.fail(name, error));
  }

  /**
   * Runs a child workflow as one step; its failure stops this run with the child's reason and type.
   * A child that failed a step raised its own alert, with the evidence, so this run adds none; one that
   * was terminated, timed out or never started raised none, so this run alerts as a failed step does.
   */
  child<T>(name: string, details: string, work: () => Promise<T>, outcome: (result: T) => string): Promise<T> {
    return this.attempt(name, details, work, outcome, async (error) => {
      const cause = error instanceof ChildWorkflowFailure ? error.cause : undefined;
      if (cause instanceof ApplicationFailure) return this.stopped(name, cause, error);
      return this.fail(name, error, error instanceof ApplicationFailure ? error : undefined);
    });
  }

  private async attempt<T>(
    name: string,
    details: string,
    work: () => Promise<T>,
    outcome: (result: T) => string,
    failure: (error: unknown) => Promise<ApplicationFailure>,
  ): Promise<T> {
    this.stage(name, details);
    try {
      const result = await work();
      this.progress.steps.push({ name, outcome: outcome(result) });
      return result;
    } catch (error) {
      throw await failure(error);
    }
  }

  /**
   * The run's SLA as a durable timer: once the run is `hours` past its start it raises SlaMissed, saying
   * where the run is, and the run goes on; a run done in time never hears of it. Behind a patch, so
   * runs started before SLAs existed replay without the timer.
   */
  watchSla(hours: number | undefined): void {
    if (hours === undefined || !patched('pipeline-sla')) return;
    const due = workflowInfo().startTime.getTime() + hours * 3_600_000;
    sleep(Math.max(0, due - Date.now())).then(
      () =>
        this.alert('critical', 'SlaMissed', `${this.subject}: not done within ${hours} h of its start`, {
          subject: `${this.subject} SLA`,
          observed: `still running, at ${this.progress.stage}`,
          expected: `done within ${hours} h of its start`,
        }),
      // A cancelled run cancels its timer: nothing is late then.
      () => undefined,
    );
  }

  /** One alert per (run, code, subject): give alerts of one code a subject each (a feature, a segment). */
  async alert(
    severity: 'critical' | 'warning' | 'info',
    code: string,
    message: string,
    extra: { subject?: string; observed?: string; expected?: string; details?: Record<string, unknown> } = {},
  ): Promise<void> {
    const subject = extra.subject ?? this.subject;
    try {
      await notify.executeWithOptions({ summary: `alert: ${severity} ${code} ${subject}`.slice(0, 200) }, [
        { severity, code, message, ...extra, subject },
      ]);
    } catch {
      // The alert outlet failing must not hide the pipeline's own outcome; its retries were logged.
    }
  }
  /** Stops the run at `step` with `failure` (an alert, as a failed step raises): throw what it returns. */
  stopWith(step: string, failure: ApplicationFailure): Promise<ApplicationFailure> {
    return this.fail(step, failure, failure);
  }

  private async fail(
    step: string,
    error: unknown,
    cause = error instanceof ActivityFailure && error.cause instanceof ApplicationFailure ? error.cause : undefined,
  ): Promise<ApplicationFailure> {
    const failure = this.stopped(step, cause, error);
    const details = detailsOf(cause);
    await this.alert('critical', failure.type ?? 'StepFailed', `${this.subject}: ${failure.message}`, {
      ...observedAgainstExpected(details),
      details: { step, ...(details ?? {}) },
    });
    return failure;
  }

  /** Marks the run failed at `step` (progress, stage, UI details) and builds the failure it ends with. */
  private stopped(step: string, cause: ApplicationFailure | undefined, error: unknown): ApplicationFailure {
    const type = cause?.type ?? 'StepFailed';
    const reason = cause?.message ?? (error instanceof Error ? error.message : String(error));
    const message = `${step} failed: ${reason}`;
    this.progress.stage = 'Failed';
    this.progress.error = message;
    this.progress.steps.push({ name: step, outcome: `FAILED (${type})` });
    upsertSearchAttributes([{ key: PipelineStage, value: 'Failed' }]);
    setCurrentDetails(`**Failed** at ${step}: ${reason}`);
    return ApplicationFailure.create({
      message,
      type,
      nonRetryable: true,
      details: cause?.details ? [...cause.details] : [],
      cause: error as Error,
    });
  }

  complete(summary: string): void {
    this.progress.stage = 'Completed';
    upsertSearchAttributes([{ key: PipelineStage, value: 'Completed' }]);
    setCurrentDetails(`**Completed**: ${summary}`);
  }
}

/** From a gate or feature report: what each failed blocking check observed, against what it expected. */
function observedAgainstExpected(details: Record<string, unknown> | undefined): {
  observed?: string;
  expected?: string;
} {
  const checks = (details?.report as { checks?: Check[] } | undefined)?.checks ?? [];
  const failed = checks.filter((c) => c.verdict === 'fail' && c.severity === 'blocking');
  if (failed.length === 0) return {};
  const name = (c: Check) => `${c.gate}(${c.subject})`;
  return {
    observed: failed
      .map((c) => `${name(c)}: ${c.observed}`)
      .join('; ')
      .slice(0, 1000),
    expected: failed
      .map((c) => `${name(c)}: ${c.expected}`)
      .join('; ')
      .slice(0, 1000),
  };
}

function detailsOf(cause: ApplicationFailure | undefined): Record<string, unknown> | undefined {
  const first = cause?.details?.[0];
  return first && typeof first === 'object' ? (first as Record<string, unknown>) : undefined;
}
