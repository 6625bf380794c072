import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ScoringInputSchema, type ScoringInput, type ScoringResult } from '../src/api/scoring';
import { ModelName } from '../src/api/search-attributes';
import { PipelineRun } from './pipeline-run';
import { invalidInput, parseWorkflowInput } from './parse-input';
import { retryFor } from './retry';

// Scoring checkpoints a day at a time and heartbeats while it runs: a dead worker's step resumes elsewhere.
const data = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '30 seconds',
  retry: retryFor(5, '1 minute'),
});
const records = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: retryFor(10, '30 seconds'),
});

/**
 * Batch scoring: a window of feature partitions scored with the production version (or a named one),
 * a day at a time; the predictions checked (probabilities only, the mean against the version's
 * baseline), then published with their lineage. Rows in = scored + dead letters, or nothing publishes.
 */
export async function scoringPipeline(rawInput: ScoringInput): Promise<ScoringResult> {
  const input = parseWorkflowInput(ScoringInputSchema, rawInput, 'scoring input');
  if (input.from > input.to) throw invalidInput('scoring input', 'from is after to');
  const run = new PipelineRun('scoring', `${input.spec} ${input.from}..${input.to}`);
  const plan = await run.step(
    'Planning',
    `the version to score with and the window's feature partitions`,
    () => records.planScoring.executeWithOptions({ summary: `plan scoring ${input.spec}` }, [input]),
    (p) => `${p.modelName} v${p.version}, ${p.days} day(s)`,
  );
  upsertSearchAttributes([{ key: ModelName, value: plan.modelName }]);
  const subject = `${plan.modelName} v${plan.version} ${input.from}..${input.to}`;
  const request = { spec: input.spec, from: input.from, to: input.to, version: plan.version };

  await run.step(
    'Scoring',
    `${plan.days} feature partition(s), a checkpoint per day`,
    () => data.scorePartitions.executeWithOptions({ summary: `score ${subject}` }, [request]),
    (s) =>
      `${s.scored} scored, ${s.deadLetters} dead letter(s) of ${s.rows} rows${s.resumedDays ? `; ${s.resumedDays} day(s) done before a retry` : ''}`,
  );
  const validated = await run.step(
    'Validating',
    'probabilities only; the mean against the version baseline',
    () => records.validatePredictions.executeWithOptions({ summary: `validate ${subject}` }, [request]),
    (v) =>
      v.verdict === 'skipped'
        ? `mean ${v.mean.toFixed(4)}; no baseline to compare (never promoted)`
        : `mean ${v.mean.toFixed(4)} against ${v.baselineMean!.toFixed(4)} (${v.verdict})`,
  );
  if (validated.verdict === 'warn')
    await run.alert('warning', 'PredictionDistributionShift', `${subject}: the mean score moved from the baseline`, {
      observed: `mean ${validated.mean.toFixed(4)}`,
      expected: `near the baseline's ${validated.baselineMean!.toFixed(4)}`,
    });
  const published = await run.step(
    'Publishing',
    'reconciling, then publishing predictions and dead letters with lineage',
    () => records.publishPredictions.executeWithOptions({ summary: `publish ${subject}` }, [request]),
    (p) => `${p.predictionsUri} (${p.scored} rows), ${p.deadLetters} dead letter(s)`,
  );
  run.progress.artifacts.predictions = published.predictionsUri;
  run.complete(`${published.scored} of ${published.rows} rows scored with ${plan.modelName} v${plan.version}`);
  return {
    modelName: plan.modelName,
    version: plan.version,
    ...published,
    distribution: {
      mean: validated.mean,
      ...(validated.baselineMean !== undefined ? { baselineMean: validated.baselineMean, shift: validated.shift } : {}),
      verdict: validated.verdict,
    },
  };
}
