import type { z } from 'zod';
import type { FeatureSetSchema } from './feature-schema';

type FeatureInput = z.input<typeof FeatureSetSchema>['features'][number];

/** An airport's share of flights 15+ minutes late over the previous 7 days. */
function delayShare(entity: 'origin' | 'destination', name: string, which: string): FeatureInput {
  return {
    name,
    description: `Share of flights ${which} in the previous 7 days that arrived 15+ minutes late`,
    kind: 'entity',
    entity,
    windowDays: 7,
    sql: 'avg(CASE WHEN delay >= 15 THEN 1.0 ELSE 0.0 END)',
    range: [0, 1],
    maxNullShare: 0.02,
    // A sliding 7-day congestion share moves with the weather, day after day (PSI against the day before
    // exceeds 0.25 on most days): that is drift for the monitoring pipeline, not a broken feature.
    driftCheck: false,
    serving: { maxStalenessHours: 48, toleranceHours: 72, default: 0.2 },
  };
}

/**
 * Features for "will this flight arrive 15+ minutes late": congestion at both ends and on the route
 * over the previous week (entity features, point-in-time), and what the flight itself says.
 */
export const flightFeatures: z.input<typeof FeatureSetSchema> = {
  name: 'flight_delay',
  version: '1',
  description:
    "Congestion of the origin, destination and route in the previous 7 days, and the flight's own timing and length.",
  entities: [
    { name: 'origin', description: 'departure airport (IATA)', key: 'origin' },
    { name: 'destination', description: 'arrival airport (IATA)', key: 'destination' },
    { name: 'route', description: 'origin-destination pair', key: "origin || '-' || destination" },
  ],
  features: [
    delayShare('origin', 'origin_delay_share_7d', 'departing this airport'),
    delayShare('destination', 'dest_delay_share_7d', 'arriving at this airport'),
    {
      name: 'route_flights_7d',
      description: 'Flights on this route in the previous 7 days (0 for a new route)',
      kind: 'entity',
      entity: 'route',
      windowDays: 7,
      sql: 'count(*)',
      fillMissing: 0,
      range: [0, 2000],
      serving: { maxStalenessHours: 48, toleranceHours: 72, default: 0 },
    },
    {
      name: 'hour_of_day',
      description: 'Scheduled departure hour (local time), 0-23',
      kind: 'event',
      sql: 'hour(date)',
      range: [0, 23],
    },
    {
      name: 'day_of_week',
      description: 'ISO day of week of the departure, 1 = Monday',
      kind: 'event',
      sql: 'isodow(date)',
      range: [1, 7],
      driftCheck: false,
    },
    {
      name: 'log_distance',
      description: 'Natural log of the route distance in miles',
      kind: 'event',
      sql: 'ln(distance)',
      range: [0, 9],
    },
  ],
  validation: { maxOutOfRangeShare: 0, maxPsi: 0.25, minRowsRatio: 0.3, minHistoryDays: 7 },
};
