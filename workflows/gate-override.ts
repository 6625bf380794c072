import { ApplicationFailure, condition, log, setHandler } from '@temporalio/workflow';
import {
  decideGateUpdate,
  gateDecisionSignal,
  gateOverrideQuery,
  type GateDecisionRequest,
  type GateDecisionSigned,
  type GateOverrideView,
} from '../src/api/gate-override';
import { ErrorTypes } from '../src/api/errors';
import type { GateOverride } from '../src/api/gate-override';
import type { Check } from '../src/quality/check';
import type { PipelineRun } from './pipeline-run';

/**
 * The person in the loop of a gate marked `onFail: 'ask'`: the gateDecision signal, the decideGate
 * Update (same rules, but the reviewer gets an answer), the gateOverride query, and the deadline.
 * An override takes two listed reviewers (the second confirms what the first proposed: four eyes);
 * one abort stops the run. Handlers exist from the first line of the run, so an early word is refused
 * visibly rather than lost.
 */
export class GateAsk {
  readonly view: GateOverrideView;
  private ignored: NonNullable<GateOverrideView['ignoredSignals']> = [];

  constructor(batch: string) {
    this.view = { status: 'not-asked', batch, reviewers: [], failing: [] };
    setHandler(gateOverrideQuery, () => ({
      ...this.view,
      ...(this.ignored.length ? { ignoredSignals: this.ignored } : {}),
    }));
    setHandler(gateDecisionSignal, (request) => this.fromSignal(request));
    setHandler(decideGateUpdate, (request) => this.decide(request), {
      validator: (request) => {
        const refusal = this.refusal(request);
        if (refusal) throw new Error(refusal);
      },
    });
  }

  /** Waits for the reviewers' word on the failed checks; the view says how it ended. */
  async wait(
    run: PipelineRun,
    ask: { reviewers: string[]; deadlineHours: number; reportUri?: string; failing: readonly Check[] },
  ): Promise<GateOverrideView> {
    const timeoutMs = ask.deadlineHours * 3_600_000;
    const deadline = new Date(Date.now() + timeoutMs).toISOString();
    Object.assign(this.view, {
      status: 'waiting',
      reviewers: ask.reviewers,
      deadline,
      reportUri: ask.reportUri,
      failing: ask.failing.map((c) => ({
        check: `${c.gate}(${c.subject})`,
        observed: c.observed,
        expected: c.expected,
        detail: c.detail,
      })),
    });
    run.stage(
      'AwaitingOverride',
      `${this.view.failing.map((f) => f.check).join(', ')} failed: waits for two of ${ask.reviewers.join(', ')} to override, or one to abort, until ${deadline}`,
    );
    const decided = await condition(() => this.view.status !== 'waiting', timeoutMs);
    if (!decided) {
      this.view.status = 'timedOut';
      this.view.stoppedBy = {
        reviewer: 'deadline',
        reason: `no override before ${deadline}`,
        at: new Date().toISOString(),
      };
    }
    return this.view;
  }

  /** Why a word cannot be taken now, or undefined when it can. Pure: validators must not change state. */
  private refusal(request: GateDecisionRequest): string | undefined {
    // A signal's payload is whatever the sender sent (a bare `temporal workflow signal` sends none).
    if (typeof request !== 'object' || request === null) return 'a decision is { decision, reviewer, reason }';
    if (this.view.status !== 'waiting') return `the run is not waiting for a gate override (${this.view.status})`;
    if (request.decision !== 'override' && request.decision !== 'abort') return 'a decision is override or abort';
    if (!this.view.reviewers.includes(request.reviewer))
      return `${request.reviewer} may not override gates of this dataset (reviewers: ${this.view.reviewers.join(', ')})`;
    if (typeof request.reason !== 'string' || !request.reason.trim()) return `an ${request.decision} needs a reason`;
    if (request.decision === 'override' && this.view.proposed?.reviewer === request.reviewer)
      return `${request.reviewer} proposed this override: another reviewer must confirm it (four eyes)`;
    return undefined;
  }

  private decide(request: GateDecisionRequest): GateOverrideView {
    const refusal = this.refusal(request);
    if (refusal) throw ApplicationFailure.nonRetryable(refusal, ErrorTypes.InvalidInput);
    const signed: GateDecisionSigned = {
      reviewer: request.reviewer,
      reason: request.reason,
      at: new Date().toISOString(),
    };
    if (request.decision === 'abort') {
      this.view.status = 'aborted';
      this.view.stoppedBy = signed;
    } else if (!this.view.proposed) {
      this.view.proposed = signed;
    } else {
      this.view.status = 'overridden';
      this.view.override = {
        checks: this.view.failing.map((f) => f.check),
        overriddenBy: [this.view.proposed, signed],
      };
    }
    log.info(`gate ${request.decision} by ${request.reviewer}`, { reviewer: request.reviewer, reason: request.reason });
    return this.view;
  }

  /** A signal cannot be answered: a refused one is logged and shown in the query, and changes nothing. */
  private fromSignal(request: GateDecisionRequest): void {
    const refusal = this.refusal(request);
    if (!refusal) {
      this.decide(request);
      return;
    }
    const { decision, reviewer } = (request ?? {}) as Partial<GateDecisionRequest>;
    log.warn(`ignored gate ${String(decision)} signal from ${String(reviewer)}: ${refusal}`);
    if (this.ignored.length < 20)
      this.ignored.push({ reviewer: String(reviewer), decision: String(decision), why: refusal });
  }
}

/**
 * A run whose failed checks ask before stopping it: one critical alert asks the reviewers, then the run
 * waits for two of them to override (the override is returned, for the caller to keep) or one to
 * abort; an abort or the deadline stops the run with `failure`, as the checks would have.
 */
export async function askReviewers(
  run: PipelineRun,
  gate: GateAsk,
  asked: {
    subject: string;
    ask: { reviewers: string[]; deadlineHours: number };
    reportUri?: string;
    checks: readonly Check[];
    /** The failure the run ends with, from the failed checks' summary and why no override came. */
    failure: (failed: string, why: string) => ApplicationFailure;
  },
): Promise<GateOverride> {
  const failing = asked.checks.filter((c) => c.verdict === 'fail' && c.severity === 'blocking');
  const failed = failing.map((c) => `${c.gate}(${c.subject}): ${c.detail}`).join('; ');
  await run.alert(
    'critical',
    'GateOverrideAsked',
    `${asked.subject} waits for two of ${asked.ask.reviewers.join(', ')} to override its failed gates, or one to abort, within ${asked.ask.deadlineHours} h: ${failed}`.slice(
      0,
      3900,
    ),
    { details: { reportUri: asked.reportUri } },
  );
  const word = await gate.wait(run, { ...asked.ask, reportUri: asked.reportUri, failing });
  if (word.status !== 'overridden') {
    const by = word.stoppedBy!;
    throw await run.stopWith(
      'AwaitingOverride',
      asked.failure(failed, word.status === 'aborted' ? `aborted by ${by.reviewer}: ${by.reason}` : by.reason),
    );
  }
  return word.override!;
}
