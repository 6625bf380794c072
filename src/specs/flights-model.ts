import type { z } from 'zod';
import type { ModelSpecSchema } from './model-schema';

/** The ten busiest origins of 2001 in the data set: the "hub airports" segment. */
const HUBS = ['ATL', 'ORD', 'DFW', 'LAX', 'PHX', 'DEN', 'LAS', 'DTW', 'IAH', 'MSP'];
const hub = `origin IN (${HUBS.map((h) => `'${h}'`).join(', ')})`;

/**
 * "Will this flight arrive 15+ minutes late?": L2 logistic regression on the flight_delay features.
 * Judged overall and on hub airports against the rest, short against long haul.
 */
export const flightDelayModel: z.input<typeof ModelSpecSchema> = {
  name: 'flight-delay',
  description: 'Probability that a US domestic flight arrives 15 or more minutes late',
  label: { name: 'late', sql: 'delay >= 15', description: 'arrived 15+ minutes after schedule' },
  servingInput: ['date', 'origin', 'destination', 'distance'],
  hyperParameters: { l2: 1e-4, maxIterations: 50, tolerance: 1e-10 },
  threshold: 0.3,
  defaultWindow: { from: '2001-01-08', to: '2001-02-28' },
  split: { train: 0.7, validation: 0.15, test: 0.15 },
  segments: [
    { name: 'hub_origin', description: `departs from one of the 10 busiest airports (${HUBS.join(', ')})`, sql: hub },
    { name: 'other_origin', description: 'departs from any other airport', sql: `NOT (${hub})` },
    { name: 'short_haul', description: 'route under 500 miles', sql: 'distance < 500' },
    { name: 'long_haul', description: 'route of 500 miles or more', sql: 'distance >= 500' },
  ],
  dataQuality: { minRows: 1000, positiveShare: [0.02, 0.6], maxNullShare: 0.05, minDayRowsRatio: 0.2 },
  promotion: { metric: 'auc', minImprovement: 0.002, maxSegmentDegradation: 0.01, minLiftOverBaseline: 0.05 },
  // Every segment must rank late flights above on-time ones better than chance by a clear margin.
  bias: [{ metric: 'auc', min: 0.52 }],
  reviewers: ['ana', 'ben', 'chen'],
  skewCheckRows: 50,
};
