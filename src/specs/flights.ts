import type { SpecInput } from './spec-schema';
import { flightFeatures } from './flights-features';
import { flightDelayModel } from './flights-model';

/**
 * The bundled example: 3M US domestic flights, January-June 2001 (vega-datasets).
 * Gates are tuned so the real file passes its blocking gates while its known defects are caught:
 * two delays below -720 minutes (-953, -1116: rejected by the range rule), 2001-07-01 with 6 flights (segment volume
 * warning), and 0.26% repeated (date, origin, destination) rows (within the uniqueness tolerance).
 */
export const flightsSpec: SpecInput = {
  name: 'flights',
  version: '1.0.0',
  description: 'Predict whether a US domestic flight arrives 15 or more minutes late.',
  defaultSource: 'package:vega-datasets/data/flights-3m.parquet',
  contract: {
    name: 'flights',
    version: '1.0.0',
    description: 'One row per flight: scheduled departure, arrival delay, distance, route.',
    columns: [
      { name: 'date', type: 'timestamp', description: 'Scheduled departure (local time)' },
      {
        name: 'delay',
        type: 'integer',
        min: -720,
        max: 2880,
        description: 'Arrival delay in minutes; earlier than 12 h is a recording error',
      },
      { name: 'distance', type: 'integer', min: 1, max: 6000, description: 'Route distance in miles' },
      { name: 'origin', type: 'string', maxLength: 4, description: 'Origin airport IATA code' },
      { name: 'destination', type: 'string', maxLength: 4, description: 'Destination airport IATA code' },
    ],
    key: ['date', 'origin', 'destination'],
    eventTime: 'date',
    references: [
      {
        columns: ['origin', 'destination'],
        uri: 'package:vega-datasets/data/airports.csv',
        key: 'iata',
        maxMissingRate: 0,
      },
    ],
    gates: {
      completeness: { default: 0.001 },
      volume: { minRatio: 0.99, maxRatio: 1.5, lookback: 7 },
      segmentVolume: { minRatio: 0.2 },
      freshness: { maxAgeHours: 48 },
      uniqueness: { maxDuplicateRate: 0.005 },
      rejectRate: { max: 0.001 },
      distribution: { columns: ['delay', 'distance'], maxPsi: 0.25 },
    },
  },
  featureSet: flightFeatures,
  model: flightDelayModel,
  monitoring: {
    // A flight's arrival delay is known once it lands: the same day.
    labelDelayHours: 24,
    // Winter congestion (January-February) is not spring congestion: when a third of the inputs move
    // (the two congestion features together), the model is retrained on recent data.
    drift: { methods: {}, thresholds: {}, datasetShare: 0.3 },
    // A segment (the hubs, the long hauls) is judged on fewer rows than the whole: a wider bound.
    performance: { metric: 'auc', maxDrop: 0.03, minLabelled: 500, segmentAucMaxDrop: 0.05 },
    retrainOn: { datasetDrift: true, degradation: true, predictionDrift: false },
    // Retrain on the same length of history as the first model (January-February: 52 days).
    retrainDays: 52,
  },
};
