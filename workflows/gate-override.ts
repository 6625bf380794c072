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
import type { PipelineRun } from './pipeline-run';

/** A failed check as the reviewers read it. */
interface AskingCheck {
  gate: string;
  subject: string;
  observed: string;
  expected: string;
  detail: string;
}

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
    ask: { reviewers: string[]; deadlineHours: number; reportUri: string; failing: AskingCheck[] },
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
