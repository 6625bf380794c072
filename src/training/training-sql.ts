import { sqlFileList, sqlIdent, sqlString } from '../data/duckdb';
import { transformSql } from '../ml/feature-transform';
import type { TrainingSpec } from './training-spec';

/** Columns training adds to the feature rows; the double underscore keeps them apart from contract columns. */
export const LABEL = '__label';
export const DAY = '__day';
export const ROW = '__row';
export const segmentColumn = (name: string) => `__segment_${name}`;

/**
 * The training window: every offline feature row of the given partitions with its label, day and
 * segment flags, numbered in a fixed order (event time, then every contract column). Rows equal in
 * every contract column are equal in every feature too, so the order, and with it the matrix and
 * its hash, is the same on every run.
 */
export function extractionSql(t: TrainingSpec, files: string[]): string {
  const order = contractRowOrder(t);
  const segments = t.model.segments.map(
    (s) => `coalesce(CAST((${s.sql}) AS BOOLEAN), false) AS ${sqlIdent(segmentColumn(s.name))}`,
  );
  return `SELECT *, CAST((${t.model.label.sql}) AS BOOLEAN) AS ${LABEL}, CAST(${sqlIdent(t.spec.contract.eventTime)} AS DATE) AS ${DAY},
    ${[...segments, `row_number() OVER (ORDER BY ${order}) AS ${ROW}`].join(', ')}
  FROM read_parquet(${sqlFileList(files)})
  ORDER BY ${ROW}`;
}

/**
 * The fixed order of a dataset's rows: event time, then every contract column. Rows equal in all of
 * them are equal in every feature too, so training, monitoring and scoring number rows the same way.
 */
export function contractRowOrder(t: TrainingSpec): string {
  const { contract } = t.spec;
  return [contract.eventTime, ...contract.columns.map((c) => c.name).filter((n) => n !== contract.eventTime)]
    .map(sqlIdent)
    .join(', ');
}

/** Model inputs: each feature through the shared transform, the label as 0/1; unlabelled rows left out. */
export function transformedSql(t: TrainingSpec, windowFile: string): string {
  const features = t.transforms.map((x) => `${transformSql(x)} AS ${sqlIdent(x.name)}`);
  const segments = t.model.segments.map((s) => sqlIdent(segmentColumn(s.name)));
  return `SELECT ${[...features, `CAST(${LABEL} AS INTEGER) AS ${LABEL}`, DAY, ...segments, ROW].join(', ')}
  FROM read_parquet(${sqlString(windowFile)}) WHERE ${LABEL} IS NOT NULL ORDER BY ${ROW}`;
}

/** The columns `readMatrixFromDuckDB` expects of the transformed file, in order. */
export function matrixSql(t: TrainingSpec, transformedFile: string): string {
  const segments = t.model.segments.map((s) => sqlIdent(segmentColumn(s.name)));
  return `SELECT ${[...t.features.map(sqlIdent), LABEL, `strftime(${DAY}, '%Y-%m-%d') AS ${DAY}`, ...segments].join(', ')}
  FROM read_parquet(${sqlString(transformedFile)}) ORDER BY ${ROW}`;
}
