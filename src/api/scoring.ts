import * as z from 'zod/mini';
import { day } from './day';

export const ScoringInputSchema = z.object({
  spec: z.string().check(z.minLength(1), z.maxLength(100)),
  from: day,
  to: day,
  /** A registry version to score with; the production version when absent. */
  version: z.optional(z.number().check(z.int(), z.positive())),
});
export type ScoringInput = z.infer<typeof ScoringInputSchema>;

/** What a scoring run published; rows = scored + deadLetters, always. */
export interface ScoringResult {
  modelName: string;
  version: number;
  rows: number;
  scored: number;
  deadLetters: number;
  predictionsUri: string;
  deadLettersUri: string;
  outputHash: string;
  /** The mean score against the version's baseline, and whether it was within the spec's bound. */
  distribution: { mean: number; baselineMean?: number; shift?: number; verdict: 'pass' | 'warn' | 'skipped' };
}

/** The partition a scoring run covers: a day, or a range of days. */
export function scoringPartition(from: string, to: string): string {
  return from === to ? from : `${from}_${to}`;
}

export function scoringWorkflowId(model: string, from: string, to: string): string {
  return `score/${model}/${scoringPartition(from, to)}`;
}

export type ScoringPipeline = (input: ScoringInput) => Promise<ScoringResult>;
