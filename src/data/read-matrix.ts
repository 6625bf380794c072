import {
  DuckDBTypeId,
  type DuckDBConnection,
  type DuckDBDateValue,
  type DuckDBDoubleVector,
  type DuckDBVector,
} from '@duckdb/node-api';
import { isPartition } from '../features/partition-dates';
import { MAX_DAYS, type FeatureMatrix } from '../ml/feature-matrix';

/** Which result columns make up the matrix; other columns of the result are ignored. */
export interface MatrixColumns {
  /** DOUBLE columns, in matrix order; NULL becomes NaN. */
  features: string[];
  /** BOOLEAN, or an integer column holding 0/1; NULL is an error. */
  label: string;
  /** DATE, or VARCHAR 'YYYY-MM-DD'; the result must be ordered by it. */
  day: string;
  /** One BOOLEAN column per segment; NULL counts as outside it, as in a SQL WHERE. */
  segments: string[];
}

const LABEL_TYPES = [
  DuckDBTypeId.BOOLEAN,
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
  DuckDBTypeId.UBIGINT,
];

/**
 * Streams a query's result into a FeatureMatrix chunk by chunk (DuckDB's ~2048-row data chunks),
 * reading each vector's values straight into typed arrays: no row objects, and a streamed rather
 * than materialised result on the DuckDB side (the query's ORDER BY still sorts, spilling past
 * memory_limit). Each chunk's values go to per-chunk arrays that are concatenated at the
 * end, column by column, releasing the chunks as they are copied, so peak memory is about the
 * matrix plus one column.
 */
export async function readMatrixFromDuckDB(
  conn: DuckDBConnection,
  sql: string,
  spec: MatrixColumns,
): Promise<FeatureMatrix> {
  const result = await conn.stream(sql);
  const names = result.columnNames();
  const column = (name: string, role: string, types: DuckDBTypeId[]): number => {
    const index = names.indexOf(name);
    if (index < 0) throw new Error(`the matrix query has no ${role} column ${name} (columns: ${names.join(', ')})`);
    if (names.lastIndexOf(name) !== index) throw new Error(`the matrix query has more than one column named ${name}`);
    const type = result.columnTypeId(index);
    if (!types.includes(type)) {
      throw new Error(
        `${role} column ${name} is ${DuckDBTypeId[type]}, expected ${types.map((t) => DuckDBTypeId[t]).join(' or ')}: cast it in the query`,
      );
    }
    return index;
  };
  const featureAt = spec.features.map((f) => column(f, 'feature', [DuckDBTypeId.DOUBLE]));
  const labelAt = column(spec.label, 'label', LABEL_TYPES);
  const dayAt = column(spec.day, 'day', [DuckDBTypeId.DATE, DuckDBTypeId.VARCHAR]);
  const segmentAt = spec.segments.map((s) => column(s, 'segment', [DuckDBTypeId.BOOLEAN]));

  const featureParts: Float64Array[][] = spec.features.map(() => []);
  const labelParts: Uint8Array[] = [];
  const dayParts: Uint16Array[] = [];
  const maskParts: Uint8Array[][] = spec.segments.map(() => []);
  const days: string[] = [];
  let lastDayKey: number | string | undefined;
  let rows = 0;

  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const n = chunk.rowCount;
    featureAt.forEach((at, j) => {
      const vector = chunk.getColumnVector(at) as DuckDBDoubleVector;
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) values[i] = vector.getItem(i) ?? NaN;
      featureParts[j]!.push(values);
    });

    const labelVector = chunk.getColumnVector(labelAt);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) labels[i] = labelValue(labelVector, i, rows + i, spec.label);
    labelParts.push(labels);

    // DATE values are compared by their day number and VARCHAR by the string, and only a change of
    // day builds and checks a day string: rows arrive sorted, so that is once per day, not per row.
    const dayVector = chunk.getColumnVector(dayAt) as DuckDBVector<DuckDBDateValue | string>;
    const dayIndex = new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      const value = dayVector.getItem(i);
      if (value === null) throw new Error(`day column ${spec.day} is NULL in row ${rows + i}`);
      const key = typeof value === 'string' ? value : value.days;
      if (key !== lastDayKey) {
        const day = String(value);
        if (!isPartition(day))
          throw new Error(`day column ${spec.day} has ${day} in row ${rows + i}, expected a YYYY-MM-DD day`);
        const previous = days[days.length - 1];
        if (previous !== undefined && day < previous)
          throw new Error(
            `the matrix query is not ordered by ${spec.day}: ${day} in row ${rows + i} after ${previous}`,
          );
        if (days.length === MAX_DAYS) throw new Error(`more than ${MAX_DAYS} distinct days`);
        days.push(day);
        lastDayKey = key;
      }
      dayIndex[i] = days.length - 1;
    }
    dayParts.push(dayIndex);

    segmentAt.forEach((at, k) => {
      const vector = chunk.getColumnVector(at) as DuckDBVector<boolean>;
      const mask = new Uint8Array(n);
      for (let i = 0; i < n; i++) mask[i] = vector.getItem(i) === true ? 1 : 0;
      maskParts[k]!.push(mask);
    });
    rows += n;
  }

  return {
    features: [...spec.features],
    segments: [...spec.segments],
    rows,
    columns: featureParts.map((parts) => drain(parts, new Float64Array(rows))),
    labels: drain(labelParts, new Uint8Array(rows)),
    days,
    dayIndex: drain(dayParts, new Uint16Array(rows)),
    segmentMasks: maskParts.map((parts) => drain(parts, new Uint8Array(rows))),
  };
}

function labelValue(vector: DuckDBVector, i: number, row: number, name: string): number {
  const value = vector.getItem(i);
  if (value === true || value === 1 || value === 1n) return 1;
  if (value === false || value === 0 || value === 0n) return 0;
  if (value === null)
    throw new Error(`label column ${name} is NULL in row ${row}: filter unlabeled rows out in the query`);
  throw new Error(`label column ${name} is ${String(value)} in row ${row}, expected 0/1 or a boolean`);
}

/** Copies the parts into `out` back to back, then empties `parts` so they can be freed before the next column's copy. */
function drain<T extends Float64Array | Uint8Array | Uint16Array>(parts: T[], out: T): T {
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  parts.length = 0;
  return out;
}
