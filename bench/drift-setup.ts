/**
 * Prepares the drift benchmark's input in a child process of its own (bench/drift.bench.ts runs it; not
 * measured): the flights model's inputs for a reference and a current window, each as a Parquet file
 * with the model's score next to the features, as the promotion baseline and a monitoring window hold them.
 *
 *   node --import tsx bench/drift-setup.ts '<task JSON>'
 *
 * Features: `bareFeatureSql` (bench/bare-features.ts), the features benchmark's one-statement
 * rewrite of the flight_delay feature set over the raw flights-3m file, verified there row by row
 * against the offline partitions; a feature backfill would take minutes. The spec's transforms (fill,
 * clamp) then make them the model's inputs, as training does. From 2001-01-08, the first day with 7
 * days of history, the first `rows` rows in time order are the reference (Jan-Feb hold fewer than 1M
 * flights, so the reference runs into early March) and a seeded reservoir sample of `rows` of the
 * later rows up to 2001-06-30 is the current window.
 * Score: the spec's logistic regression fitted on the whole reference (no split: only its scores'
 * distribution matters here), applied to both windows in SQL.
 */
import path from 'node:path';
import { runAsChild } from './child';
import { bareFeatureSql } from './bare-features';
import { openDuckDb, sqlIdent, sqlString } from '../src/data/duckdb';
import { readMatrixFromDuckDB } from '../src/data/read-matrix';
import { transformSql } from '../src/ml/feature-transform';
import { Standardizer } from '../src/ml/standardizer';
import { train } from '../src/ml/logistic-regression';
import { PREDICTION_COLUMN } from '../src/monitoring/drift';
import { loadTrainingSpec } from '../src/training/training-spec';

export interface SetupTask {
  kind: 'setup';
  /** Where the two Parquet files are written. */
  dir: string;
  /** Rows of each window. */
  rows: number;
}

export interface SetupResult {
  kind: 'setup';
  /** The files' columns: the model's features (and PREDICTION_COLUMN), the label and the day. */
  features: string[];
  label: string;
  day: string;
  reference: WindowFile;
  current: WindowFile;
  model: { iterations: number; converged: boolean; weights: number[]; intercept: number };
  seconds: number;
}

export interface WindowFile {
  file: string;
  rows: number;
  from: string;
  to: string;
}

const SPEC = 'flights';
const FROM = '2001-01-08';
const TO = '2001-06-30';
const SAMPLE_SEED = 42;
const LABEL = 'late';
const DAY = 'day';

async function setup(task: SetupTask): Promise<SetupResult> {
  const t0 = performance.now();
  const t = loadTrainingSpec(SPEC);
  const source = path.resolve(__dirname, '..', 'node_modules/vega-datasets/data/flights-3m.parquet');
  const db = await openDuckDb({ memoryLimit: '2GB', tempDirectory: path.join(task.dir, 'duckdb-tmp') });
  const conn = await db.connect();
  const inputs = t.transforms.map((x) => `${transformSql(x)} AS ${sqlIdent(x.name)}`);
  await conn.run(`CREATE TABLE inputs AS
    SELECT ${inputs.join(', ')}, CAST((${t.model.label.sql}) AS INTEGER) AS ${LABEL}, CAST(date AS DATE) AS ${DAY},
      row_number() OVER (ORDER BY date, delay, distance, origin, destination) AS n
    FROM (${bareFeatureSql([source], FROM, TO)})`);
  await conn.run(`CREATE TABLE reference AS SELECT * FROM inputs WHERE n <= ${task.rows} ORDER BY n`);
  await conn.run(`CREATE TABLE current AS
    SELECT * FROM (SELECT * FROM inputs WHERE n > ${task.rows}) USING SAMPLE reservoir(${task.rows} ROWS) REPEATABLE (${SAMPLE_SEED}) ORDER BY n`);

  const matrix = await readMatrixFromDuckDB(conn, 'SELECT * FROM reference ORDER BY n', {
    features: t.features,
    label: LABEL,
    day: DAY,
    segments: [],
  });
  const standardizer = Standardizer.fit(matrix.columns, matrix.rows);
  const model = await train(
    { columns: standardizer.transform(matrix.columns, matrix.rows), labels: matrix.labels },
    t.model.hyperParameters!,
  );
  // Parenthesised literals: a negative one after a minus would otherwise read as a `--` comment.
  const num = (v: number) => `(${v})`;
  const eta = [
    num(model.intercept),
    ...t.features.map(
      (f, j) =>
        `${num(model.weights[j]!)} * ((${sqlIdent(f)} - ${num(standardizer.means[j]!)}) / ${num(standardizer.stds[j]!)})`,
    ),
  ].join(' + ');

  const write = async (table: string): Promise<WindowFile> => {
    const file = path.join(task.dir, `${table}.parquet`);
    await conn.run(`COPY (SELECT ${t.features.map(sqlIdent).join(', ')}, 1 / (1 + exp(-(${eta}))) AS ${PREDICTION_COLUMN}, ${LABEL}, ${DAY}
      FROM ${table} ORDER BY n) TO ${sqlString(file)} (FORMAT parquet)`);
    const [row] = (
      await conn.runAndReadAll(
        `SELECT count(*)::INTEGER AS rows, min(${DAY})::VARCHAR AS from, max(${DAY})::VARCHAR AS to FROM ${table}`,
      )
    ).getRowObjectsJson();
    return { file, rows: Number(row!.rows), from: String(row!.from), to: String(row!.to) };
  };
  const reference = await write('reference');
  const current = await write('current');
  conn.closeSync();
  db.closeSync();
  const { iterations, converged, weights, intercept } = model;
  return {
    kind: 'setup',
    features: t.features,
    label: LABEL,
    day: DAY,
    reference,
    current,
    model: { iterations, converged, weights, intercept },
    seconds: (performance.now() - t0) / 1000,
  };
}

if (require.main === module) runAsChild<SetupTask>(setup);
