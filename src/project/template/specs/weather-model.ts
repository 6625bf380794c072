import type { ModelSpecInput } from 'temporal-ml-pipelines';

/**
 * "Is this day wet at this station?": L2 logistic regression on the wet_day features, judged overall
 * and per station. A request carries the day's temperatures and wind, never its precipitation or
 * weather category (either gives the label away).
 */
export const wetDayModel: ModelSpecInput = {
  name: 'wet-day',
  description: 'Probability that a day has any precipitation at a weather station (Seattle or New York)',
  label: { name: 'wet', sql: 'precipitation > 0', description: 'any precipitation recorded on the day' },
  servingInput: ['date', 'location', 'temp_max', 'temp_min', 'wind'],
  hyperParameters: { l2: 1e-3, maxIterations: 50, tolerance: 1e-10 },
  threshold: 0.5,
  // Two whole years (the first 7 days have no full window): training sees every season at least once,
  // and the test days (mid-September to December 2013) are not a single season of a short window.
  defaultWindow: { from: '2012-01-08', to: '2013-12-31' },
  split: { train: 0.7, validation: 0.15, test: 0.15 },
  segments: [
    { name: 'seattle', description: 'the Seattle station', sql: "location = 'Seattle'" },
    { name: 'new_york', description: 'the New York station', sql: "location = 'New York'" },
  ],
  // Any 30 days of 2012-2015 have 12-73% wet station-days; minRows lets a 60-day window (120 rows) train.
  // A day with one of the two stations is a missing row, not a hole (the check needs < half the median day).
  dataQuality: { minRows: 100, positiveShare: [0.05, 0.85], maxNullShare: 0.05, minDayRowsRatio: 0.5 },
  promotion: { metric: 'auc', minImprovement: 0.005, maxSegmentDegradation: 0.02, minLiftOverBaseline: 0.1 },
  // On the default window the weaker station, New York, scores AUC 0.67 on the test days (Seattle 0.74).
  bias: [{ metric: 'auc', min: 0.6 }],
  reviewers: ['dana', 'eli'],
  skewCheckRows: 50,
};
