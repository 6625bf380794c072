import { checkColumns } from './columns';

/**
 * The in-memory training matrix of one window: column-major typed arrays, never row objects, so
 * 3M rows x 8 features is ~200 MB of doubles plus 4 bytes per row of labels, days and masks.
 * Rows are sorted by day, which turns every time split into a contiguous row range: train,
 * validation and test are subarray views of the same columns, with no copies.
 */
export interface FeatureMatrix {
  /** Column order of `columns`. */
  features: string[];
  /** Segment names, in the order of `segmentMasks`. */
  segments: string[];
  rows: number;
  /** One per feature: transformed values (NaN is tolerated here; training rejects it). */
  columns: Float64Array[];
  /** 0/1 per row. */
  labels: Uint8Array;
  /** Distinct YYYY-MM-DD days, ascending. */
  days: string[];
  /** Per row, an index into `days`; non-decreasing. */
  dayIndex: Uint16Array;
  /** Per segment, 1 where the row belongs to it. */
  segmentMasks: Uint8Array[];
}

/** Half-open row interval [start, end). */
export interface RowRange {
  start: number;
  end: number;
}

/** Most distinct days a Uint16Array day index can address (~179 years of days). */
export const MAX_DAYS = 0xffff + 1;

/**
 * Throws unless every array has `rows` entries, labels are 0/1, masks are 0/1, days are distinct
 * and ascending, and the day index is in bounds and non-decreasing. One O(rows) pass per array:
 * cheap next to anything trained on the matrix, and it is what makes row ranges valid.
 */
export function checkMatrix(m: FeatureMatrix): void {
  const { rows } = m;
  checkColumns(m.columns, rows, m.features.length);
  if (m.labels.length !== rows) throw new RangeError(`labels have ${m.labels.length} values, expected ${rows}`);
  if (m.dayIndex.length !== rows) throw new RangeError(`day index has ${m.dayIndex.length} values, expected ${rows}`);
  if (m.segmentMasks.length !== m.segments.length)
    throw new RangeError(`${m.segmentMasks.length} segment masks for ${m.segments.length} segments`);
  if (m.days.length > MAX_DAYS)
    throw new RangeError(`${m.days.length} distinct days, at most ${MAX_DAYS} fit the day index`);
  checkBytes(m.labels, 'label');
  m.segmentMasks.forEach((mask, k) => {
    if (mask.length !== rows)
      throw new RangeError(`segment ${m.segments[k]} mask has ${mask.length} values, expected ${rows}`);
    checkBytes(mask, `segment ${m.segments[k]} mask`);
  });
  for (let k = 1; k < m.days.length; k++) {
    if (!(m.days[k - 1]! < m.days[k]!))
      throw new RangeError(`days are not distinct and ascending: ${m.days[k - 1]} then ${m.days[k]}`);
  }
  checkSortedDayIndex(m.dayIndex, m.days.length);
}

/**
 * Rows of the days in [fromDay, toDay] (YYYY-MM-DD, both included) as a half-open range; empty
 * (start === end) when the matrix has no such day. Throws if the rows are not sorted by day, since
 * then the days' rows would not be one contiguous range.
 */
export function rowRange(m: FeatureMatrix, fromDay: string, toDay: string): RowRange {
  if (fromDay > toDay) throw new RangeError(`day range ${fromDay}..${toDay} is reversed`);
  checkSortedDayIndex(m.dayIndex, m.days.length);
  // First day index inside the range, and first one past it.
  let lo = 0;
  while (lo < m.days.length && m.days[lo]! < fromDay) lo++;
  let hi = lo;
  while (hi < m.days.length && m.days[hi]! <= toDay) hi++;
  return { start: firstRowAtLeast(m.dayIndex, lo), end: firstRowAtLeast(m.dayIndex, hi) };
}

/** Feature columns and labels of a row range as subarray views (no copies): a model's training data. */
export function rangeView(m: FeatureMatrix, range: RowRange): { columns: Float64Array[]; labels: Uint8Array } {
  if (!(
    Number.isInteger(range.start) &&
    Number.isInteger(range.end) &&
    0 <= range.start &&
    range.start <= range.end &&
    range.end <= m.rows
  )) {
    throw new RangeError(`row range [${range.start}, ${range.end}) is outside the matrix's ${m.rows} rows`);
  }
  return {
    columns: m.columns.map((c) => c.subarray(range.start, range.end)),
    labels: m.labels.subarray(range.start, range.end),
  };
}

function checkSortedDayIndex(dayIndex: Uint16Array, days: number): void {
  for (let i = 0; i < dayIndex.length; i++) {
    const d = dayIndex[i]!;
    if (d >= days) throw new RangeError(`row ${i} has day index ${d}, but there are ${days} days`);
    if (i > 0 && d < dayIndex[i - 1]!)
      throw new RangeError(`rows are not sorted by day: row ${i} is on an earlier day than row ${i - 1}`);
  }
}

/** Binary search on a sorted day index: the first row whose day index is >= `day`. */
function firstRowAtLeast(dayIndex: Uint16Array, day: number): number {
  let lo = 0;
  let hi = dayIndex.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (dayIndex[mid]! < day) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function checkBytes(values: Uint8Array, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (values[i]! > 1) throw new RangeError(`${what} ${i} is ${values[i]}, expected 0 or 1`);
  }
}
