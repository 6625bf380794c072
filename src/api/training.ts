import * as z from 'zod/mini';
import { day } from './day';

const person = z.string().check(z.regex(/^[A-Za-z0-9._@-]{1,100}$/));
export const HOUR_MS = 3_600_000;

export const TrainingInputSchema = z.object({
  spec: z.string().check(z.minLength(1), z.maxLength(100)),
  /** The training window: days of published feature partitions, split by time into train/validation/test. */
  from: day,
  to: day,
  /** Who started the run: recorded, and never allowed to approve it (four eyes). */
  initiatedBy: person,
  /** How long the run waits for a reviewer before it is rejected as ApprovalTimedOut (default 72 h). */
  approvalTimeoutMs: z.optional(z.number().check(z.int(), z.minimum(1000), z.maximum(90 * 24 * HOUR_MS))),
  /** Why the run exists (a manual run, or the drift a monitoring run found): kept in the registry lineage. */
  reason: z.optional(z.string().check(z.maxLength(2000))),
  /** How long the server waits for a training heartbeat before retrying it on another worker. */
  trainingHeartbeatTimeoutMs: z.optional(z.number().check(z.int(), z.minimum(1000), z.maximum(600_000))),
});
export type TrainingInput = z.infer<typeof TrainingInputSchema>;

export interface TrainingResult {
  modelName: string;
  version: number;
  promoted: boolean;
  previousVersion?: number;
  approvedBy: string;
  artifactUri: string;
  baselineUri: string;
}

export type TrainingPipeline = (input: TrainingInput) => Promise<TrainingResult>;
