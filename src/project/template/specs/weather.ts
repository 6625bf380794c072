import { defineSpec } from 'temporal-ml-pipelines';
import { weatherFeatures } from './weather-features';
import { wetDayModel } from './weather-model';

/**
 * The example spec of a new project (`mlpipe init`): daily weather in Seattle and New York, 2012-2015
 * (vega-datasets), one row per station and day. Everything data-specific lives here: the contract and
 * its gates, the features, the model and its reviewers; the pipelines take it all from the spec.
 * The real file is clean (no nulls, no repeated (location, date), both stations on every day), so the
 * gates are tight; its event times are dates, which the CSV landing types at midnight.
 */
export default defineSpec({
  name: 'weather',
  version: '1.0.0',
  description: 'Predict whether a day is wet (any precipitation) at a weather station.',
  // The sample `mlpipe init` put under the project's data folder; name another file with --source.
  defaultSource: 'incoming/weather.csv',
  contract: {
    name: 'weather',
    version: '1.0.0',
    description: 'One row per station and day: precipitation, temperature extremes, wind and the observed weather.',
    columns: [
      {
        name: 'location',
        type: 'string',
        allowed: ['Seattle', 'New York'],
        description: 'Weather station; the model is judged per station, so a new one needs a new contract version',
      },
      { name: 'date', type: 'date', description: 'Day of the observation' },
      { name: 'precipitation', type: 'double', min: 0, max: 500, description: 'Precipitation over the day in mm' },
      { name: 'temp_max', type: 'double', min: -40, max: 50, description: 'Highest temperature of the day in °C' },
      { name: 'temp_min', type: 'double', min: -45, max: 40, description: 'Lowest temperature of the day in °C' },
      { name: 'wind', type: 'double', min: 0, max: 40, description: 'Mean wind speed of the day in m/s' },
      {
        name: 'weather',
        type: 'string',
        allowed: ['drizzle', 'fog', 'rain', 'snow', 'sun'],
        description:
          'Observed weather category; it describes the same day as precipitation, so it is never a model input',
      },
    ],
    key: ['location', 'date'],
    eventTime: 'date',
    gates: {
      completeness: { default: 0.001 },
      volume: { minRatio: 0.99, maxRatio: 1.5, lookback: 7 },
      // Two stations a day: a day with only one of them (half the median day) is flagged.
      segmentVolume: { minRatio: 0.75 },
      // A day is recorded at midnight and complete a day later: a delivery at most a day late is fresh.
      freshness: { maxAgeHours: 48 },
      // A station reports once a day: any repeated (location, date) is a duplicate delivery.
      uniqueness: { maxDuplicateRate: 0 },
      rejectRate: { max: 0.001 },
      distribution: { columns: ['precipitation', 'temp_max', 'weather'], maxPsi: 0.25 },
    },
  },
  featureSet: weatherFeatures,
  model: wetDayModel,
});
