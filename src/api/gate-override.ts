import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

/** A reviewer's word on a batch whose failed gates ask before stopping it: override (with a reason) or abort. */
export interface GateDecisionRequest {
  decision: 'override' | 'abort';
  reviewer: string;
  reason: string;
}

export interface GateDecisionSigned {
  reviewer: string;
  reason: string;
  /** Workflow time, ISO-8601. */
  at: string;
}

/** What an override leaves in the gate report and in the dataset's lineage. */
export interface GateOverride {
  /** The failed checks it overrode, as `gate(subject)`. */
  checks: string[];
  /** The two reviewers who agreed, first the one who proposed it. */
  overriddenBy: GateDecisionSigned[];
}

export interface GateOverrideView {
  status: 'not-asked' | 'waiting' | 'overridden' | 'aborted' | 'timedOut';
  batch: string;
  reviewers: string[];
  /** ISO-8601, once the run waits. */
  deadline?: string;
  /** The failed checks that ask, with what they saw against what they expected. */
  failing: { check: string; observed: string; expected: string; detail: string }[];
  reportUri?: string;
  /** An override one reviewer proposed, waiting for a second reviewer to confirm it. */
  proposed?: GateDecisionSigned;
  override?: GateOverride;
  /** The reviewer who aborted, or the deadline that passed. */
  stoppedBy?: GateDecisionSigned;
  /** Signals that changed nothing (not waiting, not a reviewer, the proposer again, no reason), and why. */
  ignoredSignals?: { reviewer: string; decision: string; why: string }[];
}

export const gateDecisionSignal = defineSignal<[GateDecisionRequest]>('gateDecision');
/** Like the signal, but the reviewer gets an answer: refused (with the reason), or the view after it. */
export const decideGateUpdate = defineUpdate<GateOverrideView, [GateDecisionRequest]>('decideGate');
export const gateOverrideQuery = defineQuery<GateOverrideView>('gateOverride');
