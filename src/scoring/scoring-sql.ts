import { sqlFileList, sqlIdent } from '../data/duckdb';
import { transformSql } from '../ml/feature-transform';
import type { TrainingSpec } from '../training/training-spec';
import { contractRowOrder } from '../training/training-sql';

export const SCORING_ROW = '__row';
export const DEAD_LETTER_REASON = '__reason';

/** Rows of a day's feature partition, numbered in a fixed order (event time, then every contract column). */
export function dayRowsSql(t: TrainingSpec, files: string[]): string {
  return `SELECT (row_number() OVER (ORDER BY ${contractRowOrder(t)}) - 1)::BIGINT AS ${SCORING_ROW}, *
  FROM read_parquet(${sqlFileList(files)})`;
}

/** The model inputs of `table`'s rows through the training transform, in row order, as `readMatrixFromDuckDB` reads them. */
export function modelInputsSql(t: TrainingSpec, table: string): string {
  return `SELECT ${t.transforms.map((x) => `${transformSql(x)} AS ${sqlIdent(x.name)}`).join(', ')},
    false AS __label, strftime(CAST(${sqlIdent(t.spec.contract.eventTime)} AS DATE), '%Y-%m-%d') AS __day
  FROM ${table} ORDER BY ${SCORING_ROW}`;
}

/** The columns a prediction row carries: the contract's key and event time, so it joins back to its input. */
export function predictionKeyColumns(t: TrainingSpec): string[] {
  const { contract } = t.spec;
  return [...new Set([contract.eventTime, ...contract.key])];
}
