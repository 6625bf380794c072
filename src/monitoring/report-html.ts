/**
 * The monitoring report as one self-contained HTML page: inline CSS and SVG, no script, nothing
 * fetched (its Content-Security-Policy forbids both), so it can be mailed, archived or opened offline.
 * Every string from the report is escaped: model, column and alert texts come from specs and data.
 */
import type { DriftMethod } from '../stats/column-drift';
import type { ModelMetrics } from '../ml/metrics';
import { escapeHtml, formatCount, formatNumber, formatPValue, formatPercent } from './html-text';
import { REFERENCE_COLOR, histogramSvg, performanceSvg } from './report-charts';
import type { ColumnDriftReport, MonitoringReport, SegmentPerformance } from './report-types';

export function renderReportHtml(report: MonitoringReport): string {
  const title = `${report.model} v${report.version} monitoring, ${report.window.from} to ${report.window.to}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${header(report)}
${alerts(report)}
${predictions(report)}
${drift(report)}
${histograms(report)}
${performance(report)}
${shadow(report)}
<footer>Workflow <code>${escapeHtml(report.workflowId)}</code>, run <code>${escapeHtml(report.runId)}</code>. Generated ${escapeHtml(report.generatedAt)}.</footer>
</main>
</body>
</html>
`;
}

function header(r: MonitoringReport): string {
  const link =
    r.uiUrl && /^https?:\/\//i.test(r.uiUrl)
      ? `<a href="${escapeHtml(r.uiUrl)}">Open the run in the Temporal UI</a>`
      : '';
  return `<header>
<h1>${escapeHtml(r.model)} <span class="version">v${escapeHtml(String(r.version))}</span></h1>
<p class="subtitle">Monitoring of ${escapeHtml(r.window.from)} to ${escapeHtml(r.window.to)}</p>
<dl class="facts">
<div><dt>Feature set version</dt><dd>${escapeHtml(r.featureSetVersion)}</dd></div>
<div><dt>Generated</dt><dd>${escapeHtml(r.generatedAt)}</dd></div>
<div class="wide"><dt>Workflow</dt><dd><code>${escapeHtml(r.workflowId)}</code>${link ? `<br>${link}` : ''}</dd></div>
</dl>
${verdict(r)}
</header>`;
}

/** What the run decided, first, then the findings behind it as chips. */
function verdict(r: MonitoringReport): string {
  const { decision } = r;
  const [kind, headline] = decision.retrain
    ? ['retrain', 'Retraining started']
    : r.alerts.length
      ? ['warn', 'Alerts raised, no retraining']
      : ['ok', 'No action: no drift, no degradation'];
  const child = decision.childWorkflowId
    ? `<p>Child workflow <code>${escapeHtml(decision.childWorkflowId)}</code></p>`
    : '';
  const reasons = decision.reasons.length
    ? `<ul>${decision.reasons.map((x) => `<li>${escapeHtml(x)}</li>`).join('')}</ul>`
    : '';
  const dataset = r.drift.dataset;
  const chips = [
    chip(
      dataset.drifted,
      `${dataset.drifted ? 'Dataset drift' : 'No dataset drift'}: ${dataset.driftedColumns} of ${dataset.columns} features`,
    ),
    r.drift.prediction
      ? chip(r.drift.prediction.drifted, r.drift.prediction.drifted ? 'Prediction drift' : 'No prediction drift')
      : '',
    performanceChip(r),
  ].join('');
  return `<section class="verdict ${kind}"><h2>${headline}</h2>${child}${reasons}<div class="chips">${chips}</div></section>`;
}

/** Neutral: whether a drop is a degradation is the run's judgement (its alerts), not the page's. */
function performanceChip(r: MonitoringReport): string {
  if (!r.performance) return '<span class="chip neutral">No labels yet</span>';
  const { overall, reference, judged } = r.performance;
  const change = overall.auc - reference.auc;
  const text = `AUC ${formatNumber(overall.auc)} against ${formatNumber(reference.auc)} (${change < 0 ? '−' : '+'}${formatNumber(Math.abs(change))})`;
  return `<span class="chip neutral">${text}${judged ? '' : ', not judged'}</span>`;
}

function chip(bad: boolean, text: string): string {
  return `<span class="chip ${bad ? 'bad' : 'good'}">${escapeHtml(text)}</span>`;
}

function alerts(r: MonitoringReport): string {
  const items = r.alerts.map(
    (
      a,
    ) => `<li><span class="code">${escapeHtml(a.code)}</span> <strong>${escapeHtml(a.subject)}</strong>: ${escapeHtml(a.message)}
<div class="observed">observed <b>${escapeHtml(a.observed)}</b>, expected ${escapeHtml(a.expected)}</div></li>`,
  );
  return `<section><h2>Alerts</h2>${items.length ? `<ul class="alerts">${items.join('')}</ul>` : '<p class="muted">No alerts.</p>'}</section>`;
}

function predictions(r: MonitoringReport): string {
  const p = r.predictions;
  const cards: Array<[string, number]> = [
    ['Predictions', p.total],
    ['Serving', p.serving],
    ['Batch', p.batch],
    ['Labelled', p.labelled],
    ['Awaiting labels', p.awaitingLabels],
    ['Labels overdue', p.missingLabels],
  ];
  return `<section><h2>Predictions</h2><div class="cards">${cards
    .map(
      ([label, n]) =>
        `<div class="card"><div class="number">${formatCount(n)}</div><div class="label">${label}</div></div>`,
    )
    .join('')}</div></section>`;
}

const METHOD_NAMES: Readonly<Record<DriftMethod, string>> = {
  ks: 'Kolmogorov-Smirnov',
  'chi-square': 'chi-square',
  z: 'two-proportion z',
  wasserstein: 'Wasserstein (normed)',
  'jensen-shannon': 'Jensen-Shannon',
  psi: 'PSI',
};

const DRIFT_HEAD =
  '<tr><th>Column</th><th>Method</th><th class="num">Statistic</th><th class="num">p-value</th><th>Drifts when</th><th>Drifted</th><th class="num">Mean: reference → current</th></tr>';

function drift(r: MonitoringReport): string {
  const d = r.drift;
  const prediction = d.prediction
    ? `<h3>Prediction drift</h3><table class="drift prediction-drift"><thead>${DRIFT_HEAD}</thead><tbody>${driftRow(d.prediction)}</tbody></table>`
    : '';
  return `<section><h2>Feature drift</h2>
<p>${d.dataset.driftedColumns} of ${d.dataset.columns} features drifted (${formatPercent(d.dataset.driftedShare)}): <b>${d.dataset.drifted ? 'dataset drift' : 'no dataset drift'}</b>.
Reference: ${escapeHtml(d.reference)} (${formatCount(d.referenceRows)} rows) against ${formatCount(d.currentRows)} current rows.</p>
<table class="drift feature-drift"><thead>${DRIFT_HEAD}</thead><tbody>${d.columns.map(driftRow).join('')}</tbody></table>
${prediction}</section>`;
}

function driftRow(c: ColumnDriftReport): string {
  // The tests drift on a small p-value, the distances on a large statistic (see columnDrift).
  const rule =
    c.pValue === undefined
      ? `statistic ≥ ${formatNumber(c.threshold)}`
      : `p ${c.method === 'ks' ? '≤' : '<'} ${formatNumber(c.threshold)}`;
  return `<tr class="${c.drifted ? 'drifted' : 'stable'}"><td><code>${escapeHtml(c.column)}</code></td><td>${METHOD_NAMES[c.method] ?? escapeHtml(c.method)}</td>
<td class="num">${formatNumber(c.statistic)}</td><td class="num">${c.pValue === undefined ? '<span class="muted">–</span>' : formatPValue(c.pValue)}</td>
<td>${rule}</td><td><span class="flag ${c.drifted ? 'bad' : 'good'}">${c.drifted ? 'yes' : 'no'}</span></td>
<td class="num">${formatNumber(c.referenceMean)} → ${formatNumber(c.currentMean)}</td></tr>`;
}

function histograms(r: MonitoringReport): string {
  const cards = r.drift.columns.map(
    (c) =>
      `<figure class="${c.drifted ? 'drifted' : ''}"><figcaption><code>${escapeHtml(c.column)}</code>${c.drifted ? ' <span class="flag bad">drifted</span>' : ''}</figcaption>${histogramSvg(c.column, c.histogram)}</figure>`,
  );
  return `<section><h2>Distributions: reference against current</h2>
<p class="muted">Share of each side's rows per bin, over bins shared by both sides; hover a bar for its range and share.</p>
<div class="histograms">${cards.join('')}</div></section>`;
}

/** Metrics where a lower value is better; for the rest higher is better (base rate and rows are neither). */
const METRIC_ROWS: ReadonlyArray<[keyof ModelMetrics, string, 'higher' | 'lower' | 'neutral']> = [
  ['auc', 'AUC', 'higher'],
  ['logLoss', 'Log loss', 'lower'],
  ['accuracy', 'Accuracy', 'higher'],
  ['precision', 'Precision', 'higher'],
  ['recall', 'Recall', 'higher'],
  ['ece', 'Calibration error (ECE)', 'lower'],
  ['baseRate', 'Base rate', 'neutral'],
  ['rows', 'Rows', 'neutral'],
];

/** AUC per model segment against the test split: a segment can fall while the whole holds. */
function segments(bySegment: SegmentPerformance[]): string {
  if (bySegment.length === 0) return '';
  const rows = bySegment.map((s) => {
    const change = s.auc !== null && s.referenceAuc !== null ? s.auc - s.referenceAuc : null;
    const delta =
      change === null
        ? '–'
        : `<span class="${change < 0 ? 'worse' : 'better'}">${change > 0 ? '+' : change < 0 ? '−' : '±'}${formatNumber(Math.abs(change))}</span>`;
    return `<tr><td>${escapeHtml(s.name)}</td><td class="num">${formatCount(s.labelled)}</td><td class="num">${s.referenceAuc === null ? '–' : formatNumber(s.referenceAuc)}</td><td class="num">${s.auc === null ? '–' : formatNumber(s.auc)}</td><td class="num">${delta}</td></tr>`;
  });
  return `<h3>AUC per segment (labelled batch-scored rows)</h3>
<table class="segments"><thead><tr><th>Segment</th><th class="num">Labelled</th><th class="num">Reference</th><th class="num">This window</th><th class="num">Change</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function shadow(r: MonitoringReport): string {
  if (!r.shadow?.length) return '';
  const rows = r.shadow.map(
    (s) =>
      `<tr><td>v${s.version}</td><td class="num">${formatCount(s.rows)}</td><td class="num">${formatPercent(s.agreement)}</td><td class="num">${s.meanShift >= 0 ? '+' : '−'}${formatNumber(Math.abs(s.meanShift))}</td><td class="num">${formatNumber(s.maxAbsDifference)}</td><td class="num">${formatCount(s.labelled)}</td><td class="num">${s.auc ? formatNumber(s.auc.production) : '–'}</td><td class="num">${s.auc ? formatNumber(s.auc.shadow) : '–'}</td></tr>`,
  );
  return `<section><h2>Shadow: the staged candidate against production on served rows</h2>
<table class="segments"><thead><tr><th>Candidate</th><th class="num">Rows</th><th class="num">Agreement</th><th class="num">Mean shift</th><th class="num">Max |difference|</th><th class="num">Labelled</th><th class="num">AUC production</th><th class="num">AUC shadow</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function performance(r: MonitoringReport): string {
  if (!r.performance)
    return '<section><h2>Performance</h2><p class="muted">No labels have arrived for this window: performance is not judged.</p></section>';
  const { overall, reference, byDay, judged } = r.performance;
  const note = judged
    ? ''
    : `<p class="note">Too few labelled predictions (${formatCount(r.predictions.labelled)}) to judge performance; shown for information.</p>`;
  const missing = byDay.some((d) => d.auc === null)
    ? '<p class="muted">Hollow markers on the axis: days without an AUC (no labels yet, or labels of one class only).</p>'
    : '';
  const rows = METRIC_ROWS.map(([key, label, better]) => {
    const change = overall[key] - reference[key];
    const worse = (better === 'higher' && change < 0) || (better === 'lower' && change > 0);
    const format = key === 'rows' ? formatCount : formatNumber;
    const sign = change > 0 ? '+' : change < 0 ? '−' : '±';
    const delta =
      key === 'rows'
        ? ''
        : `<span class="${better === 'neutral' ? '' : worse ? 'worse' : 'better'}">${sign}${formatNumber(Math.abs(change))}</span>`;
    return `<tr><td>${label}</td><td class="num">${format(reference[key])}</td><td class="num">${format(overall[key])}</td><td class="num">${delta}</td></tr>`;
  });
  const days = byDay.map(
    (d) =>
      `<tr><td>${escapeHtml(d.day)}</td><td class="num">${formatCount(d.predictions)}</td><td class="num">${formatCount(d.labelled)}</td><td class="num">${d.auc === null ? '–' : formatNumber(d.auc)}</td><td class="num">${formatNumber(d.meanScore)}</td><td class="num">${d.positiveRate === null ? '–' : formatPercent(d.positiveRate)}</td></tr>`,
  );
  return `<section><h2>Performance</h2>${note}
<h3>AUC per day</h3>${performanceSvg(byDay, reference.auc)}${missing}
<h3>Window against reference (threshold ${formatNumber(overall.threshold)})</h3>
<table class="metrics"><thead><tr><th>Metric</th><th class="num">Reference</th><th class="num">This window</th><th class="num">Change</th></tr></thead><tbody>${rows.join('')}</tbody></table>
${segments(r.performance.bySegment ?? [])}
<details><summary>Per-day numbers</summary><table class="days"><thead><tr><th>Day</th><th class="num">Predictions</th><th class="num">Labelled</th><th class="num">AUC</th><th class="num">Mean score</th><th class="num">Positive rate</th></tr></thead><tbody>${days.join('')}</tbody></table></details>
</section>`;
}

const STYLE = `
:root { --ink: #1f2933; --muted: #6b7785; --line: #d9dee4; --bad: #b42318; --bad-bg: #fdecea; --good: #1e7b34; --good-bg: #e8f5ec; --warn-bg: #fff4e0; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f6f8; color: var(--ink); font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 24px; }
section, header { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin-bottom: 16px; }
h1 { margin: 0; font-size: 24px; } h2 { margin: 0 0 10px; font-size: 18px; } h3 { margin: 16px 0 6px; font-size: 14px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.version { color: var(--muted); font-weight: 400; } .subtitle { margin: 2px 0 12px; color: var(--muted); }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 8px 24px; margin: 0 0 14px; }
.facts dt { color: var(--muted); font-size: 12px; } .facts dd { margin: 0; overflow-wrap: anywhere; } .facts .wide { grid-column: span 2; }
.verdict { margin: 0; border-left: 6px solid; } .verdict h2 { margin-bottom: 4px; } .verdict p, .verdict ul { margin: 4px 0; }
.verdict.retrain { border-color: var(--bad); background: var(--bad-bg); } .verdict.warn { border-color: #d97706; background: var(--warn-bg); } .verdict.ok { border-color: var(--good); background: var(--good-bg); }
.chips { margin-top: 8px; display: flex; flex-wrap: wrap; gap: 6px; }
.chip { border-radius: 12px; padding: 2px 10px; font-size: 12.5px; border: 1px solid; background: #fff; }
.chip.bad { color: var(--bad); } .chip.good { color: var(--good); } .chip.neutral { color: var(--muted); }
.alerts { list-style: none; padding: 0; margin: 0; } .alerts li { padding: 8px 0; border-top: 1px solid var(--line); } .alerts li:first-child { border-top: 0; }
.code { font: 12px ui-monospace, monospace; background: var(--bad-bg); color: var(--bad); padding: 1px 6px; border-radius: 4px; }
.observed { color: var(--muted); margin-top: 2px; } .observed b { color: var(--ink); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 10px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; } .card .number { font-size: 22px; font-weight: 600; } .card .label { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; } .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.drifted td { background: var(--bad-bg); }
.flag { font-size: 12px; font-weight: 600; padding: 1px 8px; border-radius: 10px; } .flag.bad { background: var(--bad); color: #fff; } .flag.good { background: var(--good-bg); color: var(--good); }
.worse { color: var(--bad); font-weight: 600; } .better { color: var(--good); }
.histograms { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 12px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 8px; } figure.drifted { border-color: var(--bad); }
figcaption { margin-bottom: 4px; }
svg { width: 100%; height: auto; display: block; }
svg text { font: 11px system-ui, sans-serif; fill: var(--ink); } svg .tick, svg .muted { fill: var(--muted); } svg .legend { font-size: 11px; }
svg .axis { stroke: #8a96a3; } svg .grid { stroke: #eef1f4; } svg .missing { fill: #fff; stroke: var(--muted); }
svg .reference-line { stroke: ${REFERENCE_COLOR}; stroke-width: 1.5; stroke-dasharray: 6 4; } svg .reference-label { fill: ${REFERENCE_COLOR}; font-weight: 600; }
.metrics { max-width: 560px; } .note { background: var(--warn-bg); padding: 6px 10px; border-radius: 4px; }
details { margin-top: 12px; } summary { cursor: pointer; color: var(--muted); } .days { margin-top: 6px; }
.muted { color: var(--muted); }
footer { color: var(--muted); font-size: 12px; padding: 0 4px; }
`;
