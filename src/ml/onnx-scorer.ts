import * as ort from 'onnxruntime-node';
import { checkColumns, type Columns } from './columns';

/** Rows per inference call: memory stays flat however many rows a step scores. */
const CHUNK_ROWS = 65_536;
/** The output a binary classifier's ONNX export names (skl2onnx and onnxmltools with zipmap=False): [rows, 2]. */
const PROBABILITIES = 'probabilities';

export interface OnnxScorer {
  /** P(positive) for rows of model inputs, columns in the model's feature order (NaN = missing). */
  scoreColumns(columns: Columns, rows: number): Promise<Float64Array>;
  close(): Promise<void>;
}

/**
 * An ONNX binary classifier as a scorer: one float or double input of shape [rows, features] and a
 * `probabilities` output of shape [rows, 2]. A model that is not of that shape is refused on load, so
 * a bad export fails where it is made (the Training step), not at the first prediction.
 */
export async function loadOnnxScorer(file: string, features: number): Promise<OnnxScorer> {
  const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all' });
  try {
    const [input, ...more] = session.inputMetadata;
    if (!input || more.length > 0 || !input.isTensor || (input.type !== 'float32' && input.type !== 'float64'))
      throw new Error(`${file}: expected one float or double tensor input, got ${describe(session.inputMetadata)}`);
    const width = input.shape[1];
    if (input.shape.length !== 2 || (typeof width === 'number' && width !== features))
      throw new Error(
        `${file}: input ${input.name} has shape [${input.shape.join(', ')}], expected [rows, ${features}]`,
      );
    if (!session.outputNames.includes(PROBABILITIES))
      throw new Error(`${file}: no output named ${PROBABILITIES} (outputs: ${session.outputNames.join(', ')})`);
    const type = input.type;
    return {
      async scoreColumns(columns, rows) {
        checkColumns(columns, rows, features);
        const scores = new Float64Array(rows);
        for (let start = 0; start < rows; start += CHUNK_ROWS) {
          const n = Math.min(CHUNK_ROWS, rows - start);
          const data = type === 'float32' ? new Float32Array(n * features) : new Float64Array(n * features);
          for (let j = 0; j < features; j++) {
            const column = columns[j]!;
            for (let i = 0; i < n; i++) data[i * features + j] = column[start + i]!;
          }
          const output = await session.run({ [input.name]: new ort.Tensor(type, data, [n, features]) }, [
            PROBABILITIES,
          ]);
          const probabilities = output[PROBABILITIES]!;
          if (probabilities.dims.length !== 2 || probabilities.dims[0] !== n || probabilities.dims[1] !== 2)
            throw new Error(
              `${file}: ${PROBABILITIES} has shape [${probabilities.dims.join(', ')}], expected [${n}, 2]`,
            );
          const values = probabilities.data as Float32Array | Float64Array;
          for (let i = 0; i < n; i++) scores[start + i] = values[i * 2 + 1]!;
          probabilities.dispose();
        }
        return scores;
      },
      close: () => session.release(),
    };
  } catch (error) {
    await session.release();
    throw error;
  }
}

function describe(values: readonly ort.InferenceSession.ValueMetadata[]): string {
  return (
    values
      .map((v) => (v.isTensor ? `${v.name}: ${v.type} [${v.shape.join(', ')}]` : `${v.name}: not a tensor`))
      .join(', ') || 'none'
  );
}
