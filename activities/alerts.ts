import { z } from 'zod';
import { workflowUiUrl } from '../src/temporal/ui-links';
import type { ActivityDeps } from './deps';
import { callerRun } from './caller';
import { parseInput } from './parse-input';

export const NotifyInputSchema = z.object({
  severity: z.enum(['critical', 'warning', 'info']),
  /** The failure type, e.g. DataQualityGateFailed. */
  code: z.string().min(1),
  /** What failed: a contract and batch, a feature, a model. */
  subject: z.string().min(1),
  message: z.string().min(1).max(4000),
  observed: z.string().optional(),
  expected: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type NotifyInput = z.infer<typeof NotifyInputSchema>;

const WEBHOOK_TIMEOUT_MS = 10_000;

export function createAlertActivities({ config, logger, store }: ActivityDeps) {
  return {
    /**
     * One alert, three outlets: a log line, a stored row (deduplicated per run and condition, so a retry
     * never doubles it) and, when MLPIPE_WEBHOOK_URL is set, a JSON POST. A failed POST throws, and the
     * activity's retry policy retries it with backoff.
     */
    async notify(raw: NotifyInput): Promise<{ alertId: number; inserted: boolean }> {
      const input = parseInput(NotifyInputSchema, raw);
      const { workflowId, runId } = callerRun();
      const uiUrl = workflowUiUrl(config.TEMPORAL_UI_URL, config.TEMPORAL_NAMESPACE, workflowId, runId);
      const alert = {
        dedupeKey: `${workflowId}/${runId}/${input.code}/${input.subject}`,
        severity: input.severity,
        code: input.code,
        subject: input.subject,
        message: input.message,
        observed: input.observed ?? null,
        expected: input.expected ?? null,
        workflowId,
        runId,
        uiUrl,
        details: input.details ?? {},
      };
      const { id, inserted } = await store.alerts.raise(alert);
      if (inserted) {
        const level = input.severity === 'critical' ? 'error' : input.severity === 'warning' ? 'warn' : 'info';
        logger[level](
          {
            alertId: id,
            code: input.code,
            subject: input.subject,
            observed: input.observed,
            expected: input.expected,
            workflowId,
            runId,
            uiUrl,
          },
          `ALERT ${input.message}`,
        );
      }
      if (config.MLPIPE_WEBHOOK_URL) await postWebhook(config.MLPIPE_WEBHOOK_URL, { id, ...alert });
      return { alertId: id, inserted };
    },
  };
}

async function postWebhook(url: string, body: unknown): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`alert webhook answered HTTP ${response.status}`);
}
