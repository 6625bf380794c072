import type { Command } from 'commander';
import { decideGate, gateOverrideView } from '../../client/gate-override';
import type { GateOverrideView } from '../../api/gate-override';
import { action, table } from '../output';
import { refused, usage } from '../refusals';
import { withClient } from '../with-client';

/** What a reviewer reads before deciding: the failed checks, who may decide, what is decided so far. */
function formatView(workflowId: string, v: GateOverrideView): string {
  const lines = [
    `${workflowId}: batch ${v.batch}, ${v.status}${v.deadline ? ` (deadline ${v.deadline})` : ''}`,
    `reviewers: ${v.reviewers.join(', ') || '-'}${v.reportUri ? `; gate report ${v.reportUri}` : ''}`,
  ];
  if (v.failing.length)
    lines.push(
      table(
        ['check', 'observed', 'expected'],
        v.failing.map((f) => [f.check, f.observed, f.expected]),
      ),
    );
  if (v.proposed)
    lines.push(`override proposed by ${v.proposed.reviewer}: ${v.proposed.reason} (another reviewer must confirm)`);
  if (v.override)
    lines.push(`overridden by ${v.override.overriddenBy.map((o) => `${o.reviewer} (${o.reason})`).join(' and ')}`);
  if (v.stoppedBy) lines.push(`stopped by ${v.stoppedBy.reviewer}: ${v.stoppedBy.reason}`);
  return lines.join('\n');
}

export function registerGate(program: Command): void {
  const gate = program
    .command('gate')
    .description("a batch held by a gate marked onFail: 'ask': read it, override it (two reviewers), or abort it");

  const show = gate.command('show').description('the failed checks a held batch waits on').argument('<workflowId>');
  show.action(
    action(show, async (ctx, workflowId: string) =>
      withClient(ctx, async (client) => {
        const view = await gateOverrideView(client, workflowId);
        ctx.print(formatView(workflowId, view), view);
      }),
    ),
  );

  for (const decision of ['override', 'abort'] as const) {
    const cmd = gate
      .command(decision)
      .description(
        decision === 'override'
          ? 'let the batch through: a listed reviewer proposes, a second one confirms (four eyes)'
          : 'stop the batch: its gates fail as if they said stop',
      )
      .argument('<workflowId>')
      .requiredOption('--reviewer <id>', 'who decides')
      .requiredOption('--reason <text>', 'why, kept in the gate report and the lineage');
    cmd.action(
      action(cmd, async (ctx, workflowId: string, opts: { reviewer: string; reason: string }) =>
        withClient(ctx, async (client) => {
          const view = await decideGate(client, workflowId, { decision, ...opts }).catch((e) => {
            throw refused(workflowId, usage(e));
          });
          ctx.print(formatView(workflowId, view), view);
        }),
      ),
    );
  }
}
