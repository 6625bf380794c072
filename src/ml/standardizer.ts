import { checkColumns, type Columns } from './columns';

/** What the model artifact stores: per feature, the training mean and standard deviation. */
export interface StandardizerJSON {
  means: number[];
  stds: number[];
}

/**
 * Per-feature z-scoring fitted on the training matrix. NaN marks a missing value: it is left out of
 * the fit, and transform maps it to 0, i.e. imputes the training mean. Doing the imputation here,
 * after scaling, means training and serving share one code path for missing values.
 */
export class Standardizer {
  private constructor(
    readonly means: readonly number[],
    readonly stds: readonly number[],
  ) {}

  /**
   * Population mean and standard deviation (ddof 0, like scikit-learn's StandardScaler) over the
   * non-missing values, in two passes so large offsets do not cancel. A feature with no spread (or
   * no values at all) gets std 1, so it transforms to a constant 0 instead of dividing by zero.
   */
  static fit(columns: Columns, rows: number): Standardizer {
    checkColumns(columns, rows, columns.length);
    const means: number[] = [];
    const stds: number[] = [];
    columns.forEach((column, j) => {
      let sum = 0;
      let count = 0;
      for (let i = 0; i < rows; i++) {
        const v = column[i]!;
        if (Number.isNaN(v)) continue;
        // Infinity is not "missing": it would poison the mean, so it is a caller bug.
        if (!Number.isFinite(v)) throw new RangeError(`feature column ${j} row ${i} is ${v}`);
        sum += v;
        count++;
      }
      const mean = count > 0 ? sum / count : 0;
      let squares = 0;
      for (let i = 0; i < rows; i++) {
        const v = column[i]!;
        if (!Number.isNaN(v)) squares += (v - mean) * (v - mean);
      }
      const std = count > 0 ? Math.sqrt(squares / count) : 0;
      means.push(mean);
      stds.push(std > 0 ? std : 1);
    });
    return new Standardizer(means, stds);
  }

  static fromJSON(json: StandardizerJSON): Standardizer {
    if (json.means.length !== json.stds.length) throw new RangeError('standardizer means and stds differ in length');
    json.means.forEach((m, j) => {
      const s = json.stds[j]!;
      if (!Number.isFinite(m) || !Number.isFinite(s) || s <= 0)
        throw new RangeError(`invalid standardizer entry ${j}: mean ${m}, std ${s}`);
    });
    return new Standardizer([...json.means], [...json.stds]);
  }

  get features(): number {
    return this.means.length;
  }

  /** New standardized columns (the input is left untouched); missing values become 0. */
  transform(columns: Columns, rows: number): Float64Array[] {
    checkColumns(columns, rows, this.features);
    return columns.map((column, j) => {
      const mean = this.means[j]!;
      const std = this.stds[j]!;
      const out = new Float64Array(rows);
      for (let i = 0; i < rows; i++) {
        const v = column[i]!;
        out[i] = Number.isNaN(v) ? 0 : (v - mean) / std;
      }
      return out;
    });
  }

  toJSON(): StandardizerJSON {
    return { means: [...this.means], stds: [...this.stds] };
  }
}
