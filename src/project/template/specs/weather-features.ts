import type { FeatureInput, FeatureSetInput } from 'temporal-ml-pipelines';

/**
 * A station's weather over the previous 7 days. Every partition holds one row per station (two rows),
 * so a day-to-day distribution check has nothing to compare (two values against two values is
 * always "drift"); shifts over weeks belong to monitoring. The null share allows one of the two
 * stations to come back after a week without reports (its window is empty, and serving falls back to
 * the default: the 2012-2015 mean of both stations).
 */
function stationWeek(
  name: string,
  description: string,
  sql: string,
  range: [number, number],
  servingDefault: number,
): FeatureInput {
  return {
    name,
    description,
    kind: 'entity',
    entity: 'location',
    windowDays: 7,
    sql,
    range,
    maxNullShare: 0.5,
    driftCheck: false,
    serving: { maxStalenessHours: 48, toleranceHours: 72, default: servingDefault },
  };
}

/** A row's own reading, passed through: its range is the contract's, so a valid row never fails it. */
function reading(name: string, description: string, range: [number, number]): FeatureInput {
  return { name, description, kind: 'event', sql: name, range, driftCheck: false };
}

/**
 * Features for "is this day wet at this station": the station's recent weather (entity features,
 * point-in-time: only days before the row's day), the day's own temperatures and wind, and the season.
 */
export const weatherFeatures: FeatureSetInput = {
  name: 'wet_day',
  version: '1',
  description:
    "The station's wet days, precipitation and warmth over the previous 7 days; the day's temperatures, wind and season.",
  entities: [{ name: 'location', description: 'weather station', key: 'location' }],
  features: [
    stationWeek(
      'wet_share_7d',
      "Share of the station's previous 7 days with any precipitation",
      'avg(CASE WHEN precipitation > 0 THEN 1.0 ELSE 0.0 END)',
      [0, 1],
      0.37,
    ),
    stationWeek(
      'precip_mean_7d',
      'Mean daily precipitation (mm) at the station over the previous 7 days',
      'avg(precipitation)',
      [0, 500],
      2.9,
    ),
    stationWeek(
      'temp_max_mean_7d',
      'Mean daily highest temperature (°C) at the station over the previous 7 days',
      'avg(temp_max)',
      [-40, 50],
      16.8,
    ),
    reading('temp_max', 'Highest temperature of the day (°C)', [-40, 50]),
    reading('temp_min', 'Lowest temperature of the day (°C)', [-45, 40]),
    {
      name: 'temp_range',
      description:
        'Daily temperature range temp_max - temp_min (°C); below 0 is a recording error, above 40 unheard of at these stations',
      kind: 'event',
      sql: 'temp_max - temp_min',
      range: [0, 40],
      driftCheck: false,
    },
    reading('wind', 'Mean wind speed of the day (m/s)', [0, 40]),
    // The season as a point on a circle, so 31 December and 1 January are neighbours.
    {
      name: 'season_sin',
      description: 'sin(2π (day of year - 1) / 365.25)',
      kind: 'event',
      sql: 'sin(2 * pi() * (dayofyear(date) - 1) / 365.25)',
      range: [-1, 1],
      driftCheck: false,
    },
    {
      name: 'season_cos',
      description: 'cos(2π (day of year - 1) / 365.25)',
      kind: 'event',
      sql: 'cos(2 * pi() * (dayofyear(date) - 1) / 365.25)',
      range: [-1, 1],
      driftCheck: false,
    },
  ],
  // Rows: a day with one of the two stations is still computed (each row's features are its own
  // station's); a day with neither fails the input freshness check.
  validation: { maxOutOfRangeShare: 0, maxPsi: 0.25, minRowsRatio: 0.5, minHistoryDays: 7 },
};
