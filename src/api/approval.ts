import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BiasCheck } from '../ml/bias-gate';
import type { Evaluation } from '../ml/evaluation';
import type { PromotionComparison } from '../ml/promotion-gate';
import type { SkewCheckResult } from '../training/skew-check-result';

/** A reviewer's approval; the comment is stored with the decision. */
export interface ApproveSignal {
  reviewer: string;
  comment?: string;
}

/** A reviewer's rejection; the reason is required and stored with the decision. */
export interface RejectSignal {
  reviewer: string;
  reason: string;
}

export type DecideRequest = ({ decision: 'approve' } & ApproveSignal) | ({ decision: 'reject' } & RejectSignal);

/** The decision a run took, as the `decide` Update answers it and the `approval` query shows it. */
export interface ApprovalDecision {
  decision: 'approve' | 'reject' | 'timeout';
  reviewer: string;
  /** The comment (approve), the reason (reject) or the deadline that passed (timeout). */
  reason: string;
  /** Workflow time of the decision, ISO-8601. */
  at: string;
}

/**
 * Everything a reviewer needs to decide, small enough for a query answer: the candidate's
 * evaluation, its comparison with production (or the naive baseline), the bias gate and the skew
 * check. Shapes are the activities' results; the workflow only passes them through.
 */
export interface ApprovalView {
  status: 'not-ready' | 'waiting' | 'decided';
  modelName: string;
  version?: number;
  initiatedBy: string;
  reviewers: string[];
  /** ISO-8601, set once the run waits. */
  deadline?: string;
  /** With the spec's shadow period: approvals are refused before this instant (ISO-8601). */
  shadowUntil?: string;
  evaluation?: { test: Evaluation; validation: Evaluation['overall'] };
  comparison?: PromotionComparison;
  bias?: BiasCheck;
  skew?: SkewCheckResult;
  decision?: ApprovalDecision;
  /** Signals that changed nothing (not waiting, unknown reviewer, the initiator, a duplicate), and why. */
  ignoredSignals?: { reviewer: string; decision: string; why: string }[];
}

export const approveSignal = defineSignal<[ApproveSignal]>('approve');
export const rejectSignal = defineSignal<[RejectSignal]>('reject');
/** Like the signals, but the reviewer gets an answer: refused (with the reason) or the decision taken. */
export const decideUpdate = defineUpdate<ApprovalDecision, [DecideRequest]>('decide');
export const approvalQuery = defineQuery<ApprovalView>('approval');
