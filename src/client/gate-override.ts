import type { Client } from '@temporalio/client';
import { z } from 'zod';
import {
  decideGateUpdate,
  gateOverrideQuery,
  type GateDecisionRequest,
  type GateOverrideView,
} from '../api/gate-override';
import { parseRequest } from './request';

export const GateDecisionSchema = z.object({
  decision: z.enum(['override', 'abort']),
  reviewer: z.string().regex(/^[A-Za-z0-9._@-]{1,100}$/, 'letters, digits and . _ @ - (at most 100)'),
  reason: z.string().trim().min(1, 'say why').max(2000),
});

/** What the run waiting on its gates shows the reviewers: the failed checks, who may decide, the deadline. */
export function gateOverrideView(client: Client, workflowId: string): Promise<GateOverrideView> {
  return client.workflow.getHandle(workflowId).query(gateOverrideQuery);
}

/**
 * A reviewer's override or abort, as an Update: the run answers with its view after it, or refuses
 * (not waiting, not a reviewer, the proposer confirming their own override, no reason).
 */
export async function decideGate(
  client: Client,
  workflowId: string,
  request: z.input<typeof GateDecisionSchema>,
): Promise<GateOverrideView> {
  const decision: GateDecisionRequest = parseRequest(GateDecisionSchema, request);
  return client.workflow.getHandle(workflowId).executeUpdate(decideGateUpdate, { args: [decision] });
}
