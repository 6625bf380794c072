/** Text for the HTML report: escaping and number formats a person reads at a glance. */

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Safe in element text and in quoted attribute values (both quote kinds). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * Four significant digits, never rounding away integer digits (143.2, 0.7123, 123457); tiny or huge
 * magnitudes in exponent form (1.2e-5), where fixed notation would be all zeros or a long row of digits.
 */
export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return 'n/a';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs < 1e-3 || abs >= 1e9) return exponent(x, 3);
  const integerDigits = Math.max(1, Math.floor(Math.log10(abs)) + 1);
  return String(Number(x.toPrecision(Math.max(4, integerDigits))));
}

/** Below 1e-4 a p-value's size is what matters, so it is written 3.21e-12 rather than 0. */
export function formatPValue(p: number): string {
  return p > 0 && p < 1e-4 ? exponent(p, 2) : formatNumber(p);
}

/** Thousands separated: 1,234,567. */
export function formatCount(n: number): string {
  return Number.isFinite(n)
    ? Math.round(n)
        .toString()
        .replace(/\B(?=(\d{3})+(?!\d))/g, ',')
    : formatNumber(n);
}

/** A share as a percentage with up to one decimal: 0.5 → 50%, 0.1234 → 12.3%. */
export function formatPercent(share: number): string {
  return Number.isFinite(share) ? `${Number((share * 100).toFixed(1))}%` : formatNumber(share);
}

/** toExponential without trailing zeros in the mantissa and without the plus sign: 1.2e-5, 3e9. */
function exponent(x: number, digits: number): string {
  const [mantissa, power] = x.toExponential(digits).split('e') as [string, string];
  return `${mantissa.replace(/\.?0+$/, '')}e${power.replace('+', '')}`;
}
