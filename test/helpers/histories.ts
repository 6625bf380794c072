import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

export const HISTORY_DIR = path.resolve(__dirname, '..', 'replay', 'histories');
const History = temporal.api.history.v1.History;

/**
 * With MLPIPE_RECORD_HISTORIES=1, saves a finished run's history for the replay suite, which replays
 * every saved history against the current workflow code on each `npm test`.
 * Stored as binary protobuf (`<name>.binpb`, plus `<name>.json` with the workflow id): the SDK's
 * JSON converter breaks on the protobufjs versions installed side by side here.
 */
export async function saveHistory(name: string, handle: WorkflowHandle): Promise<void> {
  if (process.env.MLPIPE_RECORD_HISTORIES !== '1') return;
  const history = await handle.fetchHistory();
  fs.mkdirSync(HISTORY_DIR, { recursive: true });
  fs.writeFileSync(path.join(HISTORY_DIR, `${name}.binpb`), History.encode(History.fromObject(history)).finish());
  fs.writeFileSync(
    path.join(HISTORY_DIR, `${name}.json`),
    `${JSON.stringify({ workflowId: handle.workflowId, events: history.events?.length ?? 0 })}\n`,
  );
}

export interface SavedHistory {
  name: string;
  workflowId: string;
  history: temporal.api.history.v1.History;
}

export function loadHistories(): SavedHistory[] {
  if (!fs.existsSync(HISTORY_DIR)) return [];
  return fs
    .readdirSync(HISTORY_DIR)
    .filter((f) => f.endsWith('.binpb'))
    .sort()
    .map((f) => {
      const name = f.replace(/\.binpb$/, '');
      const meta = JSON.parse(fs.readFileSync(path.join(HISTORY_DIR, `${name}.json`), 'utf8')) as {
        workflowId: string;
      };
      return { name, workflowId: meta.workflowId, history: History.decode(fs.readFileSync(path.join(HISTORY_DIR, f))) };
    });
}
