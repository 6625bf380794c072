import type { Column, Contract } from '../specs/contract-schema';
import { sqlIdent, sqlString } from './duckdb';

/**
 * Generates the SQL that types each row and lists why it is rejected, as a list of
 * {column, rule, value} structs: an empty list means accepted. Rules:
 *   type       a text value that does not parse as the declared type
 *   not_null   an empty or null value in a non-nullable column
 *   finite     NaN or Infinity in a double column
 *   range      outside [min, max]
 *   allowed    not in the allowed set
 *   max_length longer than maxLength characters
 *   reference  not found in the referenced table (referential integrity)
 *   malformed  (from landing) a line the parser could not read at all
 *   partition  (daily datasets) an event time outside the day the delivery holds: a late row of an
 *              earlier day, or one of a later day; its day has to be delivered (again) to include it
 */

const DUCK_TYPE: Record<Column['type'], string> = {
  string: 'VARCHAR',
  integer: 'BIGINT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
  date: 'DATE',
};

export function duckType(column: Column): string {
  return DUCK_TYPE[column.type];
}

/** Raw text column name in the landed data of a text source. */
const raw = (c: Column) => sqlIdent(c.name);
/** Empty text counts as null, as CSV writers use both for "no value". */
const rawValue = (c: Column) => `nullif(trim(${raw(c)}), '')`;

/** How a text value becomes typed; integers refuse decimals instead of rounding them. */
function parseText(c: Column): string {
  const v = rawValue(c);
  switch (c.type) {
    case 'string':
      // Blank text is no value, for strings too: it is counted and judged as a null.
      return `CASE WHEN ${v} IS NOT NULL THEN ${raw(c)} END`;
    case 'integer':
      return `CASE WHEN regexp_full_match(${v}, '[-+]?[0-9]+') THEN TRY_CAST(${v} AS BIGINT) END`;
    default:
      return `TRY_CAST(${v} AS ${duckType(c)})`;
  }
}

export interface RowRuleSql {
  /** Expressions producing the typed columns, named as in the contract. */
  typedColumns: string;
  /** True when any rule rejects the row: cheap, evaluated for every row. */
  rejected: string;
  /** The list of rejection reasons, built only for rejected rows (the rare ones). */
  reasons: string;
}

interface Check {
  column: string;
  rule: string;
  condition: string;
  value: string;
}

/**
 * How a column's referential-integrity rule is checked: against a table of valid values (a join,
 * which may reorder rows), or, when a pre-pass has already found the source's unknown values, as a
 * literal list of those (no join: usually an empty list, and the rule costs nothing).
 */
export type ReferenceCheck = { table: string } | { unknown: string[] };

/**
 * @param text true when the source columns are raw text (CSV, JSON lines, warehouse rows as text)
 * @param references column name -> how its reference rule is checked
 * @param partitionDay for a daily dataset, the day (YYYY-MM-DD) the delivery holds
 */
export function rowRuleSql(
  contract: Contract,
  text: boolean,
  references: Map<string, ReferenceCheck>,
  partitionDay?: string,
): RowRuleSql {
  const typedColumns = contract.columns
    .map((c) =>
      text ? `${parseText(c)} AS ${sqlIdent(c.name)}` : `${sqlIdent(c.name)}::${duckType(c)} AS ${sqlIdent(c.name)}`,
    )
    .concat(text ? contract.columns.map((c) => `${raw(c)} AS ${sqlIdent(`${c.name}__raw`)}`) : [])
    .join(', ');
  const checks = contract.columns.flatMap((c) => [
    ...columnChecks(c, text, references.get(c.name)),
    ...(partitionDay && c.name === contract.eventTime ? [partitionCheck(c, partitionDay)] : []),
  ]);
  // A comparison with NULL is NULL, not a rejection: nulls are the not_null rule's business.
  const conditions = checks.map((k) => `coalesce(${k.condition}, false)`);
  const reasons = checks.map(
    (k, i) =>
      `CASE WHEN ${conditions[i]} THEN {'column': ${sqlString(k.column)}, 'rule': ${sqlString(k.rule)}, 'value': left(${k.value}, 200)} END`,
  );
  return {
    typedColumns,
    rejected: conditions.length ? `(${conditions.join(' OR ')})` : 'false',
    reasons: `list_filter([${reasons.join(', ')}], x -> x IS NOT NULL)`,
  };
}

/** The row's event day (its value, as YYYY-MM-DD) is not the delivery's day. */
function partitionCheck(c: Column, day: string): Check {
  const eventDay = `CAST(${sqlIdent(c.name)} AS DATE)`;
  return reason(c, 'partition', `${eventDay} <> DATE ${sqlString(day)}`, `CAST(${eventDay} AS VARCHAR)`);
}

function reason(c: Column, rule: string, condition: string, value: string): Check {
  return { column: c.name, rule, condition, value };
}

function literal(c: Column, bound: number | string): string {
  if (c.type === 'timestamp' || c.type === 'date') return `${duckType(c)} ${sqlString(String(bound))}`;
  return typeof bound === 'number' ? String(bound) : sqlString(bound);
}

function columnChecks(c: Column, text: boolean, reference: ReferenceCheck | undefined): Check[] {
  const v = sqlIdent(c.name);
  const asText = `CAST(${v} AS VARCHAR)`;
  const rawText = text ? sqlIdent(`${c.name}__raw`) : asText;
  const present = text ? `nullif(trim(${rawText}), '') IS NOT NULL` : `${v} IS NOT NULL`;
  const checks: Check[] = [];
  if (text && c.type !== 'string') checks.push(reason(c, 'type', `${present} AND ${v} IS NULL`, rawText));
  if (!c.nullable) checks.push(reason(c, 'not_null', `NOT (${present})`, 'NULL'));
  if (c.type === 'double') checks.push(reason(c, 'finite', `${v} IS NOT NULL AND NOT isfinite(${v})`, asText));
  if (c.min !== undefined) checks.push(reason(c, 'range', `${v} < ${literal(c, c.min)}`, asText));
  if (c.max !== undefined) checks.push(reason(c, 'range', `${v} > ${literal(c, c.max)}`, asText));
  if (c.allowed) checks.push(reason(c, 'allowed', `${v} NOT IN (${c.allowed.map(sqlString).join(', ')})`, asText));
  if (c.maxLength !== undefined) checks.push(reason(c, 'max_length', `length(${asText}) > ${c.maxLength}`, asText));
  if (reference && 'table' in reference) {
    checks.push(
      reason(c, 'reference', `${v} IS NOT NULL AND ${asText} NOT IN (SELECT v FROM ${reference.table})`, asText),
    );
  } else if (reference && reference.unknown.length > 0) {
    checks.push(reason(c, 'reference', `${asText} IN (${reference.unknown.map(sqlString).join(', ')})`, asText));
  }
  return checks;
}
