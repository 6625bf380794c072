/** Inline SVG charts of the monitoring report: static markup, no script, nothing fetched. */
import { escapeHtml, formatCount, formatNumber, formatPercent } from './html-text';
import type { DailyPerformance, HistogramPair } from './report-types';

export const REFERENCE_COLOR = '#5b7899';
const CURRENT_COLOR = '#e8743b';

/** Coordinates with one decimal: sharp enough on screen, and the markup stays small. */
const px = (v: number) => v.toFixed(1);

/**
 * Reference against current as side-by-side bars per shared bin. Heights are shares of each side's
 * rows, not counts: the reference usually has many more rows, and raw counts would hide the shape.
 */
export function histogramSvg(column: string, h: HistogramPair): string {
  const width = 320;
  const height = 168;
  const plot = { left: 40, right: 312, top: 26, bottom: 140 };
  const refTotal = sum(h.reference);
  const curTotal = sum(h.current);
  const refShares = h.reference.map((c) => (refTotal ? c / refTotal : 0));
  const curShares = h.current.map((c) => (curTotal ? c / curTotal : 0));
  const top = Math.max(...refShares, ...curShares);
  const parts: string[] = [
    `<title>${escapeHtml(column)}: share of rows per bin, reference (${formatCount(refTotal)} rows) against current (${formatCount(curTotal)} rows)</title>`,
    legend(
      [
        ['reference', REFERENCE_COLOR],
        ['current', CURRENT_COLOR],
      ],
      plot.left,
      12,
    ),
  ];
  if (top === 0) {
    parts.push(
      `<text x="${width / 2}" y="${(plot.top + plot.bottom) / 2}" text-anchor="middle" class="muted">no values</text>`,
    );
  } else {
    const binWidth = (plot.right - plot.left) / h.reference.length;
    const y = (share: number) => plot.bottom - (share / top) * (plot.bottom - plot.top);
    h.reference.forEach((_, i) => {
      const x = plot.left + i * binWidth;
      const range = `${formatNumber(h.edges[i]!)} to ${formatNumber(h.edges[i + 1]!)}`;
      parts.push(
        bar(
          x + binWidth * 0.1,
          y(refShares[i]!),
          binWidth * 0.4,
          plot.bottom,
          REFERENCE_COLOR,
          `reference, ${range}: ${formatPercent(refShares[i]!)}`,
        ),
        bar(
          x + binWidth * 0.5,
          y(curShares[i]!),
          binWidth * 0.4,
          plot.bottom,
          CURRENT_COLOR,
          `current, ${range}: ${formatPercent(curShares[i]!)}`,
        ),
      );
    });
    const mid = Math.floor(h.reference.length / 2);
    parts.push(
      `<line x1="${plot.left}" y1="${plot.top}" x2="${plot.right}" y2="${plot.top}" class="grid"/>`,
      `<text x="${plot.left - 4}" y="${plot.top + 4}" text-anchor="end" class="tick">${formatPercent(top)}</text>`,
      `<text x="${plot.left - 4}" y="${plot.bottom}" text-anchor="end" class="tick">0%</text>`,
      `<text x="${plot.left}" y="${plot.bottom + 14}" text-anchor="start" class="tick">${formatNumber(h.edges[0]!)}</text>`,
      `<text x="${px(plot.left + mid * binWidth)}" y="${plot.bottom + 14}" text-anchor="middle" class="tick">${formatNumber(h.edges[mid]!)}</text>`,
      `<text x="${plot.right}" y="${plot.bottom + 14}" text-anchor="end" class="tick">${formatNumber(h.edges[h.edges.length - 1]!)}</text>`,
    );
  }
  parts.push(`<line x1="${plot.left}" y1="${plot.bottom}" x2="${plot.right}" y2="${plot.bottom}" class="axis"/>`);
  return svg('histogram', width, height, parts, `data-column="${escapeHtml(column)}"`);
}

/**
 * AUC per day as points joined by a line (broken where a day has none: no labels yet, or one class),
 * against the reference AUC as a dashed line. Each point's tooltip gives the day's numbers.
 */
export function performanceSvg(byDay: readonly DailyPerformance[], referenceAuc: number): string {
  const width = 760;
  const height = 240;
  const plot = { left: 52, right: 744, top: 16, bottom: 204 };
  const values = byDay.flatMap((d) => (d.auc === null ? [] : [d.auc]));
  const parts: string[] = [`<title>AUC per day against the reference AUC ${formatNumber(referenceAuc)}</title>`];
  if (values.length === 0) {
    parts.push(
      `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" class="muted">no day has an AUC yet</text>`,
    );
    return svg('performance-chart', width, height, parts);
  }
  const scale = niceScale(Math.min(...values, referenceAuc), Math.max(...values, referenceAuc));
  const x = (i: number) =>
    byDay.length === 1 ? (plot.left + plot.right) / 2 : plot.left + (i * (plot.right - plot.left)) / (byDay.length - 1);
  const y = (v: number) => plot.bottom - ((v - scale.lo) / (scale.hi - scale.lo)) * (plot.bottom - plot.top);
  for (const tick of scale.ticks) {
    parts.push(
      `<line x1="${plot.left}" y1="${px(y(tick))}" x2="${plot.right}" y2="${px(y(tick))}" class="grid"/>`,
      `<text x="${plot.left - 6}" y="${px(y(tick) + 4)}" text-anchor="end" class="tick">${formatNumber(tick)}</text>`,
    );
  }
  const labelEvery = Math.max(1, Math.ceil(byDay.length / 8));
  byDay.forEach((d, i) => {
    // The last day is always labelled; a regular label too close before it would overlap it.
    const last = byDay.length - 1;
    if (i === last || (i % labelEvery === 0 && last - i >= labelEvery / 2)) {
      parts.push(
        `<text x="${px(x(i))}" y="${plot.bottom + 18}" text-anchor="middle" class="tick">${escapeHtml(d.day.slice(5))}</text>`,
      );
    }
  });
  parts.push(
    `<line x1="${plot.left}" y1="${px(y(referenceAuc))}" x2="${plot.right}" y2="${px(y(referenceAuc))}" class="reference-line"/>`,
    `<text x="${plot.right}" y="${px(y(referenceAuc) - 6)}" text-anchor="end" class="reference-label">reference ${formatNumber(referenceAuc)}</text>`,
    `<text x="14" y="${(plot.top + plot.bottom) / 2}" text-anchor="middle" class="tick" transform="rotate(-90 14 ${(plot.top + plot.bottom) / 2})">AUC</text>`,
  );
  for (const segment of segments(byDay)) {
    const points = segment.map((i) => `${px(x(i))},${px(y(byDay[i]!.auc!))}`).join(' ');
    parts.push(`<polyline points="${points}" fill="none" stroke="${CURRENT_COLOR}" stroke-width="2"/>`);
  }
  byDay.forEach((d, i) => {
    const counts = `${formatCount(d.labelled)} labelled of ${formatCount(d.predictions)} predictions`;
    parts.push(
      d.auc === null
        ? `<circle cx="${px(x(i))}" cy="${plot.bottom}" r="3" class="missing"><title>${escapeHtml(d.day)}: no AUC, ${counts}</title></circle>`
        : `<circle cx="${px(x(i))}" cy="${px(y(d.auc))}" r="3.5" fill="${CURRENT_COLOR}"><title>${escapeHtml(d.day)}: AUC ${formatNumber(d.auc)}, ${counts}</title></circle>`,
    );
  });
  parts.push(`<line x1="${plot.left}" y1="${plot.bottom}" x2="${plot.right}" y2="${plot.bottom}" class="axis"/>`);
  return svg('performance-chart', width, height, parts);
}

/** Runs of consecutive days that have an AUC, as day indices. */
function segments(byDay: readonly DailyPerformance[]): number[][] {
  const runs: number[][] = [];
  let run: number[] = [];
  byDay.forEach((d, i) => {
    if (d.auc === null) {
      if (run.length) runs.push(run);
      run = [];
    } else run.push(i);
  });
  if (run.length) runs.push(run);
  return runs;
}

/** An axis from a little below lo to a little above hi in steps of 1, 2 or 5 times a power of ten. */
function niceScale(lo: number, hi: number): { lo: number; hi: number; ticks: number[] } {
  const span = Math.max(hi - lo, 0.02);
  const rough = span / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough)!;
  const start = Math.floor((lo - span * 0.1) / step) * step;
  const end = Math.ceil((hi + span * 0.1) / step) * step;
  const ticks: number[] = [];
  // Rounding to the step's decimals keeps 0.7000000001 out of the labels.
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  for (let t = start; t <= end + step / 2; t += step) ticks.push(Number(t.toFixed(decimals)));
  return { lo: start, hi: end, ticks };
}

function legend(entries: ReadonlyArray<readonly [string, string]>, x: number, y: number): string {
  let offset = x;
  return entries
    .map(([label, color]) => {
      const item = `<rect x="${offset}" y="${y - 8}" width="10" height="10" fill="${color}"/><text x="${offset + 14}" y="${y + 1}" class="legend">${label}</text>`;
      offset += 24 + label.length * 6.5;
      return item;
    })
    .join('');
}

function bar(x: number, y: number, width: number, bottom: number, color: string, title: string): string {
  return `<rect x="${px(x)}" y="${px(y)}" width="${px(width)}" height="${px(bottom - y)}" fill="${color}"><title>${escapeHtml(title)}</title></rect>`;
}

function svg(kind: string, width: number, height: number, parts: string[], attributes = ''): string {
  return `<svg class="${kind}" ${attributes} viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}

function sum(counts: readonly number[]): number {
  return counts.reduce((a, b) => a + b, 0);
}
