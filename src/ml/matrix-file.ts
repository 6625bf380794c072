import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { isPartition } from '../features/partition-dates';
import { checkMatrix, type FeatureMatrix } from './feature-matrix';

/**
 * One feature matrix as one binary file, so a training activity can hand its extracted window to
 * the next activity (or a retry) by path, and its sha256 names the exact training data.
 *
 * Layout, every section starting on an 8-byte boundary so typed arrays can view the file buffer:
 *   0   MAGIC (8 bytes)
 *   8   header length H, uint32 little-endian; 4 zero bytes
 *   16  header: JSON (format, version, features, segments, rows, days), space-padded to H (a multiple of 8)
 *   then: each feature column (rows x float64), labels (rows x uint8), day index (rows x uint16),
 *         each segment mask (rows x uint8), each section zero-padded to a multiple of 8 bytes.
 * Numbers are little-endian: typed arrays use the host's byte order, so both ends insist on it.
 */
const MAGIC = Buffer.from('MLPMATRX', 'ascii');
const PREFIX_BYTES = 16;
const FORMAT = 'mlpipe-feature-matrix';
const VERSION = 1;

const HeaderSchema = z
  .object({
    format: z.literal(FORMAT),
    version: z.literal(VERSION),
    features: z.array(z.string().min(1)),
    segments: z.array(z.string().min(1)),
    rows: z.number().int().nonnegative(),
    days: z.array(z.string().refine(isPartition, 'a day as YYYY-MM-DD')),
  })
  .strict();
type Header = z.infer<typeof HeaderSchema>;

/**
 * Writes through a temporary name in the same directory and renames it into place, so readers see
 * the old file or the whole new one. Returns the sha256 of the file's bytes, computed while writing
 * (the training-data hash), and its size.
 */
export async function writeMatrixFile(file: string, m: FeatureMatrix): Promise<{ sha256: string; bytes: number }> {
  checkHostEndianness();
  checkMatrix(m);
  const header: Header = {
    format: FORMAT,
    version: VERSION,
    features: m.features,
    segments: m.segments,
    rows: m.rows,
    days: m.days,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerBytes = padded(json.length);
  const prefix = Buffer.alloc(PREFIX_BYTES + headerBytes, 0x20);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(headerBytes, 8);
  prefix.writeUInt32LE(0, 12);
  json.copy(prefix, PREFIX_BYTES);

  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  const handle = await fs.open(tmp, 'w');
  try {
    const write = async (data: Uint8Array): Promise<void> => {
      hash.update(data);
      bytes += data.length;
      for (let written = 0; written < data.length;) {
        written += (await handle.write(data, written, data.length - written)).bytesWritten;
      }
    };
    await write(prefix);
    for (const section of sections(m)) {
      await write(new Uint8Array(section.buffer, section.byteOffset, section.byteLength));
      const padding = padded(section.byteLength) - section.byteLength;
      if (padding > 0) await write(new Uint8Array(padding));
    }
    await handle.sync();
    await handle.close();
    await fs.rename(tmp, file);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.rm(tmp, { force: true });
    throw error;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * Reads a whole matrix file with one readFile; the returned arrays are views of that one buffer.
 * A file that is not a matrix file, has a malformed header, or is not exactly the length its header
 * implies (truncated, or with trailing bytes) is rejected naming the file.
 */
export async function readMatrixFile(file: string): Promise<FeatureMatrix> {
  checkHostEndianness();
  let data: Uint8Array = await fs.readFile(file);
  if (data.length < PREFIX_BYTES || !MAGIC.equals(data.subarray(0, MAGIC.length)))
    throw unreadable(file, 'wrong magic bytes');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const headerBytes = view.getUint32(8, true);
  if (headerBytes % 8 !== 0 || PREFIX_BYTES + headerBytes > data.length)
    throw unreadable(file, `bad header length ${headerBytes}`);
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(data.buffer, data.byteOffset + PREFIX_BYTES, headerBytes).toString('utf8'));
  } catch {
    throw unreadable(file, 'header is not JSON');
  }
  const parsed = HeaderSchema.safeParse(raw);
  if (!parsed.success) throw unreadable(file, `bad header: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
  const header = parsed.data;
  const { rows } = header;

  const expected =
    PREFIX_BYTES +
    headerBytes +
    header.features.length * padded(rows * 8) +
    padded(rows) +
    padded(rows * 2) +
    header.segments.length * padded(rows);
  if (data.length !== expected)
    throw unreadable(file, `${data.length} bytes, the header implies ${expected} (truncated or corrupt)`);

  // Typed-array views need their offset aligned to the element size; sections are 8-aligned
  // relative to the file, so only the buffer's own offset can break that (copy once if it does).
  if (data.byteOffset % 8 !== 0) data = new Uint8Array(data);
  let offset = data.byteOffset + PREFIX_BYTES + headerBytes;
  const next = (byteLength: number): number => {
    const at = offset;
    offset += padded(byteLength);
    return at;
  };
  const columns = header.features.map(() => new Float64Array(data.buffer, next(rows * 8), rows));
  const labels = new Uint8Array(data.buffer, next(rows), rows);
  const dayIndex = new Uint16Array(data.buffer, next(rows * 2), rows);
  const segmentMasks = header.segments.map(() => new Uint8Array(data.buffer, next(rows), rows));
  const m: FeatureMatrix = {
    features: header.features,
    segments: header.segments,
    rows,
    columns,
    labels,
    days: header.days,
    dayIndex,
    segmentMasks,
  };
  try {
    checkMatrix(m);
  } catch (error) {
    throw unreadable(file, (error as Error).message);
  }
  return m;
}

/** The typed arrays in file order. */
function sections(m: FeatureMatrix): ArrayBufferView[] {
  return [...m.columns, m.labels, m.dayIndex, ...m.segmentMasks];
}

function unreadable(file: string, why: string): Error {
  return new Error(`${file} is not a readable feature matrix file: ${why}`);
}

function padded(byteLength: number): number {
  return Math.ceil(byteLength / 8) * 8;
}

function checkHostEndianness(): void {
  if (os.endianness() !== 'LE') throw new Error('feature matrix files are little-endian; this host is big-endian');
}
