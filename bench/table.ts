import type { DetailTable } from './report';

/** A detail table built column by column: each column's header beside how a row fills its cell. */
export function columnTable<R>(
  title: string,
  columns: [string, (row: R) => string | number][],
  rows: R[],
  note?: string,
): DetailTable {
  return { title, columns: columns.map(([c]) => c), rows: rows.map((r) => columns.map(([, cell]) => cell(r))), note };
}
