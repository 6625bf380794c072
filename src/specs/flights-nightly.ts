import type { SpecInput } from './spec-schema';
import { flightsSpec } from './flights';
import { flightFeatures } from './flights-features';
import { flightDelayModel } from './flights-model';

/**
 * The flights delivered night by night, one file per day of scheduled departure: the nightly ETL of
 * the articles. Each night is its own partition and is judged like for like. The bounds below were
 * measured on January-June 2001 fed night by night (bench `nightly-gates`):
 * - a night against the same weekday of the 4 weeks before moves between 0.86 (Memorial Day weekend,
 *   the 2001-03-05 nor'easter) and 1.14 (2001-01-08, measured against New Year's Day): band [0.8, 1.25];
 * - an airport's departures against its usual share of the night: storms cut a few airports deeply
 *   (Allison at IAH on 2001-06-09: 0.10 of expected; Denver on 2001-04-11: 0.13; Boston and New York
 *   on 2001-03-05/06; Seattle after the 2001-02-28 earthquake), but no airport expected to fly 400 or
 *   more flights a night (ORD, DFW, ATL, LAX, PHX, STL, DEN, DTW, MSP, LAS) fell below 0.79. So
 *   a busy airport below 0.6 stops the night, and any airport expected to fly 100 or more that falls
 *   below 0.7 is a warning. A gate on counts cannot tell a storm from a lost file: a busy airport below
 *   0.6 holds the night (`onFail: 'ask'`) until two reviewers override it with a reason (a storm), or
 *   one aborts it (a lost file), within 12 hours.
 */
const { defaultSource: _snapshotFile, ...snapshot } = flightsSpec;

export const flightsNightlySpec: SpecInput = {
  ...snapshot,
  name: 'flights-nightly',
  description: 'The flights spec fed as one file per night: a daily dataset with like-for-like gates.',
  contract: {
    ...flightsSpec.contract,
    name: 'flights_nightly',
    description: 'One row per flight, delivered night by night: each batch is one day of scheduled departure.',
    partitioning: 'daily',
    gates: {
      ...flightsSpec.contract.gates,
      volume: { minRatio: 0.8, maxRatio: 1.25, lookback: 4 },
      volumeBySegment: [
        { column: 'origin', severity: 'blocking', minRatio: 0.6, minExpectedRows: 400, lookback: 4, onFail: 'ask' },
        { column: 'origin', severity: 'warning', minRatio: 0.7, minExpectedRows: 100, lookback: 4 },
      ],
    },
    // A busy airport far below its share may be a storm: two of the data reviewers may let the night through.
    overrides: { reviewers: ['ana', 'ben', 'chen'], deadlineHours: 12 },
  },
  featureSet: { ...flightFeatures, name: 'flight_delay_nightly' },
  model: { ...flightDelayModel, name: 'flight-delay-nightly' },
  // Watched like the snapshot's model; a night's chain monitors the day before it (labels land within 24 h).
  monitoring: flightsSpec.monitoring,
};
