import { sqlFileList, sqlIdent } from '../data/duckdb';
import { transformSql } from '../ml/feature-transform';
import { contractRowOrder, segmentColumn } from '../training/training-sql';
import type { TrainingSpec } from '../training/training-spec';

/** The label mask: a row whose label is known (monitoring scores only those). */
export const LABELLED_SEGMENT = '__labelled';
export const MONITOR_LABEL = '__label';
export const MONITOR_DAY = '__day';

/**
 * The model inputs of a window, for batch scoring and drift: every offline feature row of the given
 * partitions through the training transform, its label as 0/1 with a mask saying whether it is known,
 * its day and segment flags, in a fixed order.
 */
export function windowMatrixSql(t: TrainingSpec, files: string[]): string {
  const { contract } = t.spec;
  const label = `CAST((${t.model.label.sql}) AS BOOLEAN)`;
  const segments = t.model.segments.map(
    (s) => `coalesce(CAST((${s.sql}) AS BOOLEAN), false) AS ${sqlIdent(segmentColumn(s.name))}`,
  );
  return `SELECT ${t.transforms.map((x) => `${transformSql(x)} AS ${sqlIdent(x.name)}`).join(', ')},
    coalesce(${label}, false) AS ${MONITOR_LABEL}, strftime(CAST(${sqlIdent(contract.eventTime)} AS DATE), '%Y-%m-%d') AS ${MONITOR_DAY},
    ${[...segments, `(${label}) IS NOT NULL AS ${sqlIdent(LABELLED_SEGMENT)}`].join(', ')}
  FROM read_parquet(${sqlFileList(files)})
  ORDER BY ${contractRowOrder(t)}`;
}

const SQL_TYPES: Record<string, string> = {
  string: 'VARCHAR',
  integer: 'BIGINT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
  date: 'DATE',
};

/** The serving-input columns with their DuckDB types, for reading logged requests back typed. */
export function requestColumnTypes(t: TrainingSpec): Record<string, string> {
  return Object.fromEntries(
    t.model.servingInput.map((name) => [name, SQL_TYPES[t.spec.contract.columns.find((c) => c.name === name)!.type]!]),
  );
}

/**
 * For each logged request row (table `requests`: idx plus the serving-input columns), its label in
 * the dataset, matched on every serving-input column; NULL while the dataset has no such row yet.
 */
export function requestLabelsSql(t: TrainingSpec, datasetFiles: string[]): string {
  const cols = t.model.servingInput.map(sqlIdent);
  return `WITH labels AS (
    SELECT ${cols.join(', ')}, CAST((${t.model.label.sql}) AS BOOLEAN) AS ${MONITOR_LABEL} FROM read_parquet(${sqlFileList(datasetFiles)})
  )
  SELECT r.idx, any_value(l.${MONITOR_LABEL}) AS label
  FROM requests r LEFT JOIN labels l ON ${cols.map((c) => `l.${c} IS NOT DISTINCT FROM r.${c}`).join(' AND ')}
  GROUP BY r.idx ORDER BY r.idx`;
}
