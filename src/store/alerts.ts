import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import {
  ALERT_SEVERITIES,
  CreatedAtSchema,
  DetailsSchema,
  TimestampSchema,
  type AlertsTable,
  type Tables,
} from './tables';

const optionalText = z.string().min(1).nullable().default(null);

export const AlertSchema = z.object({
  /** Identifies the condition, not the attempt: an activity retry reuses it and so cannot duplicate the alert. */
  dedupeKey: z.string().min(1),
  severity: z.enum(ALERT_SEVERITIES),
  /** Machine-readable kind, e.g. 'DataQualityGateFailed'. */
  code: z.string().min(1),
  subject: z.string().min(1),
  message: z.string().min(1),
  /** Human-readable measured value and the expectation it broke, e.g. '812 rows' vs '>= 990 rows'. */
  observed: optionalText,
  expected: optionalText,
  workflowId: optionalText,
  runId: optionalText,
  uiUrl: optionalText,
  createdAt: CreatedAtSchema,
  details: DetailsSchema,
});
export type AlertInput = z.input<typeof AlertSchema>;
export type Alert = z.output<typeof AlertSchema> & { id: number };

export const ListRecentSchema = z.object({
  limit: z.number().int().positive(),
  /** Only alerts created at or after this instant. */
  since: TimestampSchema.optional(),
});
export type ListRecentOptions = z.input<typeof ListRecentSchema>;

export class AlertsRepository {
  constructor(private readonly db: Kysely<Tables>) {}

  /** Inserts unless an alert with the same dedupe key exists; either way returns that alert's id. */
  async raise(input: AlertInput): Promise<{ inserted: boolean; id: number }> {
    const alert = AlertSchema.parse(input);
    const created = await this.db
      .insertInto('alerts')
      .values(toRow(alert))
      .onConflict((oc) => oc.column('dedupe_key').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (created) return { inserted: true, id: created.id };
    const existing = await this.db
      .selectFrom('alerts')
      .select('id')
      .where('dedupe_key', '=', alert.dedupeKey)
      .executeTakeFirstOrThrow();
    return { inserted: false, id: existing.id };
  }

  /** Newest first. */
  async listRecent(options: ListRecentOptions): Promise<Alert[]> {
    const { limit, since } = ListRecentSchema.parse(options);
    let query = this.db
      .selectFrom('alerts')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit);
    if (since !== undefined) query = query.where('created_at', '>=', since);
    return (await query.execute()).map(fromRow);
  }
}

function toRow(alert: z.output<typeof AlertSchema>): Omit<AlertsTable, 'id'> {
  return {
    dedupe_key: alert.dedupeKey,
    severity: alert.severity,
    code: alert.code,
    subject: alert.subject,
    message: alert.message,
    observed: alert.observed,
    expected: alert.expected,
    workflow_id: alert.workflowId,
    run_id: alert.runId,
    ui_url: alert.uiUrl,
    created_at: alert.createdAt,
    details: JSON.stringify(alert.details),
  };
}

function fromRow(row: Selectable<AlertsTable>): Alert {
  return {
    id: row.id,
    dedupeKey: row.dedupe_key,
    severity: row.severity,
    code: row.code,
    subject: row.subject,
    message: row.message,
    observed: row.observed,
    expected: row.expected,
    workflowId: row.workflow_id,
    runId: row.run_id,
    uiUrl: row.ui_url,
    createdAt: row.created_at,
    details: JSON.parse(row.details) as Alert['details'],
  };
}
