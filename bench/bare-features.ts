/**
 * The features benchmark's bare baseline as one DuckDB statement (bench/features.bench.ts verifies it
 * row by row against the pipeline's offline partitions), also the quick way the nightly, scoring and
 * drift benchmarks make flights features. A module of its own: those children must not load the
 * Temporal worker that bench/features-worker.ts does.
 */
import { sqlFileList, sqlString } from '../src/data/duckdb';

/**
 * The feature set of `src/specs/flights-features.ts`, written by hand as one statement over the whole
 * input: daily counts per (entity, day), a 7-day window ending the day before (RANGE frame over the
 * day), joined back to every row of [from, to] with the event features. Same output columns and row
 * order (contract columns) as the pipeline's offline partitions, concatenated by day.
 *
 * Semantics matched with `offlinePartitionSql`: entity keys are the VARCHAR casts of the key
 * expressions, rows with a NULL key are left out of the aggregates, the share is delayed/all over the
 * window's rows (a NULL delay counts as not delayed) and NULL when the window is empty, the route
 * count is 0 when the window is empty, and day D's window is [D-7, D).
 */
export function bareFeatureSql(files: string[], from: string, to: string): string {
  const entity = (name: string, key: string) => `
  ${name}_daily AS (
    SELECT CAST((${key}) AS VARCHAR) AS k, d, count(*) AS n, count(*) FILTER (WHERE delay >= 15) AS late
    FROM src WHERE CAST((${key}) AS VARCHAR) IS NOT NULL GROUP BY ALL),
  ${name}_7d AS (
    SELECT k, d, sum(n) OVER w AS n7, sum(late) OVER w AS late7 FROM ${name}_daily
    WINDOW w AS (PARTITION BY k ORDER BY d RANGE BETWEEN INTERVAL 7 DAYS PRECEDING AND INTERVAL 1 DAY PRECEDING))`;
  return `WITH src AS (SELECT *, CAST(date AS DATE) AS d FROM read_parquet(${sqlFileList(files)})),
  ${entity('o', 'origin')},
  ${entity('de', 'destination')},
  ${entity('ro', "origin || '-' || destination")}
  SELECT r.date, r.delay, r.distance, r.origin, r.destination,
    CAST(o.late7 AS DOUBLE) / o.n7 AS origin_delay_share_7d,
    CAST(de.late7 AS DOUBLE) / de.n7 AS dest_delay_share_7d,
    CAST(coalesce(ro.n7, 0) AS DOUBLE) AS route_flights_7d,
    CAST(hour(r.date) AS DOUBLE) AS hour_of_day,
    CAST(isodow(r.date) AS DOUBLE) AS day_of_week,
    CAST(ln(r.distance) AS DOUBLE) AS log_distance
  FROM src r
  LEFT JOIN o_7d o ON o.k = CAST(r.origin AS VARCHAR) AND o.d = r.d
  LEFT JOIN de_7d de ON de.k = CAST(r.destination AS VARCHAR) AND de.d = r.d
  LEFT JOIN ro_7d ro ON ro.k = CAST((r.origin || '-' || r.destination) AS VARCHAR) AND ro.d = r.d
  WHERE r.d BETWEEN DATE ${sqlString(from)} AND DATE ${sqlString(to)}
  ORDER BY r.date, r.delay, r.distance, r.origin, r.destination`;
}
