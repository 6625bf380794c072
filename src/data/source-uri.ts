import fs from 'node:fs/promises';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { isInside } from './artifact-store';
import { isPartition } from '../features/partition-dates';

/** What a source URI names, after resolution and confinement. */
export type SourceRef =
  | { uri: string; format: 'parquet' | 'csv' | 'jsonl'; files: string[] }
  | {
      uri: string;
      format: 'postgres';
      connectionUrl: string;
      table: string;
      orderBy: string[];
      /** Only the rows of one day of a column (`day=YYYY-MM-DD&dayColumn=c`): one night of a daily dataset. */
      day?: { column: string; value: string };
    };

export class SourceUriError extends Error {
  override name = 'SourceUriError';
}

const FORMAT_BY_EXTENSION: Record<string, 'parquet' | 'csv' | 'jsonl'> = {
  '.parquet': 'parquet',
  '.csv': 'csv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
};

/**
 * Resolves a source URI:
 * - `package:<npm package>/<file>`: a file shipped in an installed package (the bundled data sets);
 * - `postgresql://user:pass@host:port/db?table=schema.name`: a warehouse table;
 * - anything else is a path (a `*` glob in the file name is allowed) that must stay inside the data
 *   directory: user-supplied paths never reach files elsewhere on the machine.
 */
export async function resolveSourceUri(uri: string, dataDir: string): Promise<SourceRef> {
  if (/^postgres(ql)?:\/\//.test(uri)) return resolvePostgres(uri);
  const pattern = uri.startsWith('package:') ? resolvePackagePath(uri) : confineToDataDir(uri, dataDir);
  const format = FORMAT_BY_EXTENSION[path.extname(pattern).toLowerCase()];
  if (!format) {
    throw new SourceUriError(
      `unsupported source format "${path.extname(pattern)}" in ${uri} (use .parquet, .csv, .jsonl or .ndjson)`,
    );
  }
  const files = await expandGlob(pattern);
  if (files.length === 0) throw new SourceUriError(`no file matches ${uri}`);
  return { uri, format, files };
}

export function resolvePackagePath(uri: string): string {
  const rest = uri.slice('package:'.length);
  const parts = rest.split('/');
  const nameLength = rest.startsWith('@') ? 2 : 1;
  const pkg = parts.slice(0, nameLength).join('/');
  const file = parts.slice(nameLength).join('/');
  if (!pkg || !file || parts.includes('..')) throw new SourceUriError(`malformed package URI ${uri}`);
  // Look the package up the way Node does, without require.resolve: packages with an `exports` map
  // (vega-datasets has one) refuse to resolve their data files.
  const root = (require.resolve.paths(pkg) ?? [])
    .map((dir) => path.join(dir, pkg))
    .find((dir) => existsSync(path.join(dir, 'package.json')));
  if (!root) throw new SourceUriError(`package ${pkg} is not installed (run npm install)`);
  return path.join(root, file);
}

/** Resolves a user-supplied path against the data directory and refuses anything outside it. */
export function confineToDataDir(userPath: string, dataDir: string): string {
  const root = path.resolve(dataDir);
  const resolved = path.resolve(root, userPath.replace(/^file:/, ''));
  if (!isInside(root, resolved)) {
    throw new SourceUriError(`path ${userPath} is outside the data directory ${root}`);
  }
  return resolved;
}

async function expandGlob(pattern: string): Promise<string[]> {
  const dir = path.dirname(pattern);
  const base = path.basename(pattern);
  if (dir.includes('*')) throw new SourceUriError(`a glob may only appear in the file name: ${pattern}`);
  if (!base.includes('*')) {
    const stat = await fs.stat(pattern).catch(() => undefined);
    return stat?.isFile() ? [pattern] : [];
  }
  const regex = new RegExp(`^${base.split('*').map(escapeRegex).join('.*')}$`);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  return names
    .filter((n) => regex.test(n))
    .sort()
    .map((n) => path.join(dir, n));
}

function escapeRegex(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

function resolvePostgres(uri: string): SourceRef {
  const url = new URL(uri);
  const table = url.searchParams.get('table');
  if (!table || !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(table)) {
    throw new SourceUriError('a PostgreSQL source needs ?table=<schema.table> (plain identifiers)');
  }
  const orderBy = (url.searchParams.get('orderBy') ?? '').split(',').filter(Boolean);
  const [day, dayColumn] = [url.searchParams.get('day'), url.searchParams.get('dayColumn')];
  if (
    (day === null) !== (dayColumn === null) ||
    (day !== null && !isPartition(day)) ||
    (dayColumn !== null && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(dayColumn))
  )
    throw new SourceUriError(
      'a day of a PostgreSQL table is ?day=YYYY-MM-DD&dayColumn=<column> (both, a calendar day and a plain identifier)',
    );
  for (const param of ['table', 'orderBy', 'day', 'dayColumn']) url.searchParams.delete(param);
  return {
    uri,
    format: 'postgres',
    connectionUrl: url.toString(),
    table,
    orderBy,
    ...(day && dayColumn ? { day: { column: dayColumn, value: day } } : {}),
  };
}
