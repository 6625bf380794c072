import type { Contract, ColumnType } from '../specs/contract-schema';

export interface SourceColumn {
  name: string;
  /** DuckDB type name as DESCRIBE reports it, or 'TEXT' for text sources whose types are checked per row. */
  type: string;
}

export interface SchemaDifference {
  change: 'missing' | 'added' | 'renamed' | 'retyped' | 'duplicate';
  column: string;
  detail: string;
}

/** Which DuckDB types satisfy each contract type without losing meaning. */
const COMPATIBLE: Record<ColumnType, RegExp> = {
  string: /^(VARCHAR|TEXT)$/,
  integer: /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/,
  double: /^(FLOAT|DOUBLE|REAL|DECIMAL.*|TINYINT|SMALLINT|INTEGER|BIGINT)$/,
  boolean: /^BOOLEAN$/,
  timestamp: /^(TIMESTAMP.*|DATE)$/,
  date: /^(DATE|TIMESTAMP.*)$/,
};

/**
 * Compares what a source offers with what its contract declares. A missing column and an added column
 * of the same type are reported as a probable rename, because that is what a person fixes.
 */
export function compareSchema(contract: Contract, source: SourceColumn[]): SchemaDifference[] {
  const diffs: SchemaDifference[] = [];
  const seen = new Set<string>();
  for (const col of source) {
    if (seen.has(col.name))
      diffs.push({ change: 'duplicate', column: col.name, detail: `column ${col.name} appears more than once` });
    seen.add(col.name);
  }
  const declared = new Map(contract.columns.map((c) => [c.name, c]));
  const offered = new Map(source.map((c) => [c.name, c]));
  const missing = contract.columns.filter((c) => !offered.has(c.name));
  const added = source.filter((c) => !declared.has(c.name));

  for (const col of contract.columns) {
    const found = offered.get(col.name);
    if (found && found.type !== 'TEXT' && !COMPATIBLE[col.type].test(found.type)) {
      diffs.push({
        change: 'retyped',
        column: col.name,
        detail: `${col.name}: contract says ${col.type}, source has ${found.type}`,
      });
    }
  }
  const unmatchedAdded = [...added];
  for (const col of missing) {
    const candidate = unmatchedAdded.findIndex((a) => a.type === 'TEXT' || COMPATIBLE[col.type].test(a.type));
    if (candidate >= 0) {
      const [renamed] = unmatchedAdded.splice(candidate, 1);
      diffs.push({
        change: 'renamed',
        column: col.name,
        detail: `${col.name} is missing and ${renamed!.name} is new: renamed ${col.name} -> ${renamed!.name}?`,
      });
    } else {
      diffs.push({
        change: 'missing',
        column: col.name,
        detail: `${col.name} (${col.type}) is missing from the source`,
      });
    }
  }
  for (const col of unmatchedAdded) {
    diffs.push({
      change: 'added',
      column: col.name,
      detail: `${col.name} (${col.type}) is not in contract ${contract.name} ${contract.version}`,
    });
  }
  return diffs;
}
