import { auc } from '../ml/metrics';
import type { DailyPerformance } from './report-types';

/**
 * Every prediction of a monitoring window, batch-scored or served, as it is added: per day its count
 * and mean score, and the labelled ones kept for the metrics. A day's "N labelled of M predictions"
 * then counts all of the day's predictions, including those whose label has not arrived.
 */
export class WindowPredictions {
  /** The labelled predictions' labels and scores, in the order added: the window's overall metrics. */
  readonly labels: number[] = [];
  readonly scores: number[] = [];
  private readonly days = new Map<string, { predictions: number; scoreSum: number; labelledRows: number[] }>();

  add(day: string, score: number, label: 0 | 1 | null): void {
    const d = this.days.get(day) ?? this.days.set(day, { predictions: 0, scoreSum: 0, labelledRows: [] }).get(day)!;
    d.predictions++;
    d.scoreSum += score;
    if (label === null) return;
    d.labelledRows.push(this.labels.length);
    this.labels.push(label);
    this.scores.push(score);
  }

  /** One entry per day with a prediction, in day order; AUC and positive rate on the labelled ones. */
  byDay(): DailyPerformance[] {
    return [...this.days.keys()].sort().map((day) => {
      const { predictions, scoreSum, labelledRows } = this.days.get(day)!;
      const y = Uint8Array.from(labelledRows, (i) => this.labels[i]!);
      const p = Float64Array.from(labelledRows, (i) => this.scores[i]!);
      const positives = y.reduce((n, v) => n + v, 0);
      return {
        day,
        predictions,
        labelled: y.length,
        auc: positives > 0 && positives < y.length ? auc(y, p) : null,
        meanScore: scoreSum / predictions,
        positiveRate: y.length > 0 ? positives / y.length : null,
      };
    });
  }
}
