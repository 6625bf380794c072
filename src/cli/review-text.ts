import type { ApprovalView } from '../api/approval';
import type { Evaluation } from '../ml/evaluation';
import { table } from './output';

const n4 = (x: number | null | undefined) => (x === null || x === undefined ? '-' : x.toFixed(4));
const signed = (x: number | null | undefined) =>
  x === null || x === undefined ? '-' : `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;

/** What a reviewer reads before deciding: the evaluation, the comparison, the bias gate and the skew check. */
export function formatReview(workflowId: string, view: ApprovalView): string {
  const lines: string[] = [];
  const who = view.reviewers.filter((r) => r !== view.initiatedBy).join(', ');
  const status =
    view.status === 'waiting'
      ? `waiting for ${who} until ${view.deadline}`
      : view.status === 'decided'
        ? `decided: ${view.decision?.decision} by ${view.decision?.reviewer}${view.decision?.reason ? ` (${view.decision.reason})` : ''}`
        : 'not ready for review yet';
  lines.push(
    `${workflowId}: ${view.modelName}${view.version ? ` v${view.version}` : ''}, started by ${view.initiatedBy}, ${status}`,
  );

  const evaluation = view.evaluation?.test;
  if (evaluation) {
    lines.push(
      '',
      `Evaluation on the test split ${evaluation.from}..${evaluation.to} (${evaluation.rows} rows, threshold ${evaluation.overall.threshold}):`,
    );
    const row = (name: string, rows: number, m?: Evaluation['overall'], note?: string) =>
      m
        ? [
            name,
            rows,
            (m.baseRate * 100).toFixed(1) + '%',
            n4(m.auc),
            n4(m.logLoss),
            n4(m.precision),
            n4(m.recall),
            n4(m.ece),
          ]
        : [name, rows, '-', '-', '-', '-', '-', note ?? ''];
    lines.push(
      table(
        ['segment', 'rows', 'positive', 'AUC', 'log loss', 'precision', 'recall', 'ECE'],
        [
          row('overall', evaluation.rows, evaluation.overall),
          ...evaluation.segments.map((s) => row(s.name, s.rows, s.metrics, s.note)),
        ],
      ),
    );
  }
  const comparison = view.comparison;
  if (comparison) {
    const against =
      comparison.against === 'production' ? `production v${comparison.referenceVersion}` : 'the naive base-rate model';
    lines.push('', `Comparison with ${against}: ${comparison.passed ? 'passed' : 'FAILED'} (${comparison.summary})`);
    lines.push(
      table(
        ['scope', 'metric', 'candidate', 'reference', 'difference', 'required', 'verdict'],
        comparison.rows.map((r) => [
          r.scope,
          r.metric,
          n4(r.candidate),
          n4(r.reference),
          signed(r.difference),
          r.required,
          r.verdict,
        ]),
      ),
    );
  }
  const bias = view.bias;
  if (bias) lines.push('', `Bias gate: ${bias.passed ? 'passed' : 'FAILED'} (${bias.summary})`);
  const skew = view.skew;
  if (skew)
    lines.push(
      `Skew check: ${skew.rows} rows replayed through POST /predict for ${skew.day}, max |serving - batch| = ${skew.maxAbsDifference}`,
    );
  const model = skew?.model;
  if (model?.kind === 'onnx') {
    const { requirementsSha256, python } = model.environment;
    lines.push(
      `Model: ONNX from trainer \`${model.trainer}\` (${python ? `Python ${python}, requirements sha256 ${requirementsSha256?.slice(0, 12)}` : 'its own environment'}); trainer's own test scores against ONNX in Node: max |difference| ${model.trainerParity.maxAbsDifference.toExponential(2)} on ${model.trainerParity.rows} rows`,
    );
  } else if (model) lines.push('Model: the built-in logistic regression');
  if (view.shadowUntil)
    lines.push(`Shadow: served beside production until ${view.shadowUntil}; approval is refused before then`);
  if (view.ignoredSignals?.length)
    lines.push(
      '',
      `Ignored signals: ${view.ignoredSignals.map((s) => `${s.decision} from ${s.reviewer} (${s.why})`).join('; ')}`,
    );
  return lines.join('\n');
}
