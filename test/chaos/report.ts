import type { ChaosReport } from './scenario';

/** The chaos run's table: faults injected, workflows completed, rows lost and duplicated, work redone. */
export function formatReport(r: ChaosReport): string {
  const injected = r.faults.filter((f) => f.injected);
  const skipped = r.faults.filter((f) => !f.injected);
  const h = r.history;
  const retried =
    Object.entries(h.retriedByType)
      .map(([type, n]) => `${type} ${n}`)
      .join(', ') || 'none';
  const rows: [string, string][] = [
    ['seed', `${r.seed} (CHAOS_SEED=${r.seed} repeats this plan)`],
    [
      'worker kills (SIGKILL)',
      `${r.kills}: ${injected
        .filter((f) => f.kind === 'kill')
        .map((f) => `${f.phase}@${f.progressAtInjection}`)
        .join(', ')}`,
    ],
    [
      'server restarts',
      `${r.serverRestarts}: ${injected
        .filter((f) => f.kind === 'server-restart')
        .map((f) => `${f.phase}@${f.progressAtInjection}`)
        .join(', ')}`,
    ],
    ...(r.fleet
      ? ([
          ['hosts killed (each the holder of the running step)', r.fleet.kills.join(', ')],
          ['steps resumed from a checkpoint', r.fleet.resumes.join('; ') || 'none'],
        ] as [string, string][])
      : []),
    ['faults not injected', skipped.length ? skipped.map((f) => `${f.phase} ${f.kind}@${f.at}`).join(', ') : '0'],
    ['worker processes', `${r.workerProcesses} (${r.unexpectedWorkerExits} exited on their own)`],
    [
      'workflows completed',
      `${h.completed}/${h.workflows} (undisturbed ${r.referenceHistory.completed}/${r.referenceHistory.workflows})${h.notCompleted.length ? `; not: ${h.notCompleted.join('; ')}` : ''}`,
    ],
    ['rows lost', String(r.comparison.rowsLost)],
    ['rows duplicated', String(r.comparison.rowsDuplicated)],
    [
      'outputs equal to undisturbed',
      r.comparison.mismatches.length
        ? `NO: ${r.comparison.mismatches.join('; ')}`
        : 'yes (ingestion hash, every partition hash, online store, model weights, registry, alerts)',
    ],
    [
      'rows',
      `${r.chaos.ingestion.rowsRead} read = ${r.chaos.ingestion.rowsAccepted} accepted + ${r.chaos.ingestion.rowsRejected} rejected; ${Object.values(r.chaos.partitions).reduce((s, p) => s + p.rows, 0)} feature rows in ${Object.keys(r.chaos.partitions).length} partitions; ${r.chaos.online.rows} online rows`,
    ],
    ['registry versions of the run', String(r.chaos.registry.versionsOfThisRun)],
    [
      'duplicate online rows / alerts',
      `${r.chaos.online.duplicateKeys} / ${r.chaos.alerts.duplicateKeys} (alerts ${r.chaos.alerts.total}, undisturbed ${r.reference.alerts.total})`,
    ],
    ['chunks read twice', String(r.chunksReadTwice)],
    [
      'training resumes',
      r.trainingResumes.length ? `${r.trainingResumes.length} (from iterations ${r.trainingResumes.join(', ')})` : '0',
    ],
    ['training iterations redone', String(r.trainingIterationsRedone)],
    [
      'activities retried',
      `${h.activitiesRetried} (${h.extraActivityAttempts} extra attempts: ${retried}); undisturbed ${r.referenceHistory.activitiesRetried}`,
    ],
    ['workflow tasks redone', `${h.workflowTasksRedone} (undisturbed ${r.referenceHistory.workflowTasksRedone})`],
    ['duration', `undisturbed ${r.seconds.reference.toFixed(0)} s, chaos ${r.seconds.chaos.toFixed(0)} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}

/** Problems that fail the run. */
export function verdict(r: ChaosReport): string[] {
  const problems = [...r.comparison.mismatches];
  if (r.history.completed !== r.history.workflows)
    problems.push(`${r.history.workflows - r.history.completed} workflows did not complete`);
  if (r.history.workflows !== r.referenceHistory.workflows)
    problems.push(`${r.history.workflows} workflows, undisturbed ${r.referenceHistory.workflows}`);
  if (r.comparison.rowsLost) problems.push(`${r.comparison.rowsLost} rows lost`);
  if (r.comparison.rowsDuplicated) problems.push(`${r.comparison.rowsDuplicated} rows duplicated`);
  if (r.serverRestarts !== 1) problems.push(`${r.serverRestarts} server restarts (expected 1)`);
  return problems;
}
