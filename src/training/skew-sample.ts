import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, sqlFileList, sqlIdent, sqlString } from '../data/duckdb';
import { addDays } from '../features/partition-dates';
import { maxWindowDays, offlinePartitionSql } from '../features/feature-sql';
import { transformSql } from '../ml/feature-transform';
import type { TrainingSpec } from './training-spec';

/** One row of the skew check: what a client would send, and the model inputs the batch path computed. */
export interface SkewSampleRow {
  request: Record<string, string | number | boolean | null>;
  batchInputs: number[];
}

/**
 * Rows to replay through the serving path, and their model inputs computed the batch way.
 *
 * The online store holds the features valid from the day after the newest published partition L.
 * So the sample is `n` of day L's flights moved to day L+1 (same time of day): serving reads their
 * entity features from the online store, while the batch side computes the offline partition L+1
 * from the published dataset (days before L+1) with the very SQL that built the training rows, then
 * the training transform. Equal inputs and equal scores mean training and serving agree.
 */
export async function skewSample(
  conn: DuckDBConnection,
  t: TrainingSpec,
  opts: { newestPartitionFile: string; newestPartition: string; datasetFiles: string[]; rows: number },
): Promise<SkewSampleRow[]> {
  const { contract } = t.spec;
  const day = addDays(opts.newestPartition, 1);
  const time = sqlIdent(contract.eventTime);
  const timeType = contract.columns.find((c) => c.name === contract.eventTime)?.type === 'date' ? 'DATE' : 'TIMESTAMP';
  const contractColumns = contract.columns.map((c) => sqlIdent(c.name));
  const moved = contract.columns.map((c) =>
    c.name === contract.eventTime ? `CAST(${time} + INTERVAL 1 DAY AS ${timeType}) AS ${time}` : sqlIdent(c.name),
  );
  await conn.run(`CREATE OR REPLACE TEMP TABLE skew_requests AS
    SELECT ${moved.join(', ')} FROM read_parquet(${sqlString(opts.newestPartitionFile)})
    ORDER BY hash(${contractColumns.join(', ')}), ${contractColumns.join(', ')} LIMIT ${Math.trunc(opts.rows)}`);
  const from = addDays(day, -Math.max(1, maxWindowDays(t.fs)));
  const source = `(SELECT ${contractColumns.join(', ')} FROM read_parquet(${sqlFileList(opts.datasetFiles)})
      WHERE ${time} >= TIMESTAMP ${sqlString(`${from} 00:00:00`)} AND ${time} < TIMESTAMP ${sqlString(`${day} 00:00:00`)}
    UNION ALL SELECT * FROM skew_requests)`;
  const requestColumns = t.model.servingInput.map((name) => {
    const type = contract.columns.find((c) => c.name === name)?.type;
    const col = sqlIdent(name);
    if (type === 'timestamp') return `strftime(${col}, '%Y-%m-%dT%H:%M:%S') AS ${col}`;
    if (type === 'date') return `strftime(${col}, '%Y-%m-%d') AS ${col}`;
    return col;
  });
  // Only the requested rows: the day's offline rows restricted to the sample (the history days are inputs, not outputs).
  const sql = `WITH offline AS (${offlinePartitionSql(t.fs, contract, source, day)})
    SELECT DISTINCT ${requestColumns.join(', ')}, ${t.transforms.map((x, i) => `${transformSql(x)} AS __input_${i}`).join(', ')}
    FROM offline SEMI JOIN skew_requests ON ${contractColumns.map((c) => `offline.${c} IS NOT DISTINCT FROM skew_requests.${c}`).join(' AND ')}
    ORDER BY ALL`;
  const rows = await queryRows<Record<string, string | number | boolean | null>>(conn, sql);
  return rows.map((row) => ({
    request: Object.fromEntries(t.model.servingInput.map((name) => [name, row[name] ?? null])),
    batchInputs: t.transforms.map((_, i) => Number(row[`__input_${i}`])),
  }));
}
