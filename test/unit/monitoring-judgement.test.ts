import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { alertSeverity, judgeWindow, monitoringOutcome, type MonitoringSettings } from '../../src/monitoring/judgement';
import type { ModelMetrics } from '../../src/ml/metrics';
import type { ColumnDriftReport } from '../../src/monitoring/report-types';
import type { DriftSummary, PerformanceSummary } from '../../src/monitoring/window-summaries';

const w = { model: 'flight-delay', version: 3, from: '2001-03-01', to: '2001-03-14' };

const settings = (over: Partial<MonitoringSettings> = {}): MonitoringSettings => ({
  retrainOn: { datasetDrift: true, degradation: true, predictionDrift: false },
  datasetShare: 0.5,
  performance: { metric: 'auc', maxDrop: 0.05, minLabelled: 500, segmentAucMaxDrop: 0.1 },
  retrainDays: 60,
  labelDelayHours: 24,
  ...over,
});

const metrics = (auc: number, logLoss = 0.5): ModelMetrics => ({
  rows: 1000,
  baseRate: 0.2,
  auc,
  logLoss,
  accuracy: 0.8,
  precision: 0.5,
  recall: 0.4,
  threshold: 0.5,
  ece: 0.02,
});

const performance = (auc: number, over: Partial<PerformanceSummary> = {}): PerformanceSummary => ({
  labelled: 5000,
  judged: true,
  overall: metrics(auc),
  reference: metrics(0.7),
  byDay: [],
  bySegment: [],
  ...over,
});

const column = (name: string, drifted: boolean, pValue?: number): ColumnDriftReport => ({
  column: name,
  method: pValue === undefined ? 'wasserstein' : 'ks',
  statistic: drifted ? 0.25 : 0.01,
  ...(pValue === undefined ? {} : { pValue }),
  threshold: pValue === undefined ? 0.1 : 0.05,
  drifted,
  details: {},
  histogram: { edges: [0, 1], reference: [1], current: [1] },
  referenceMean: 0.2,
  currentMean: drifted ? 0.35 : 0.2,
});

const drift = (columns: ColumnDriftReport[], prediction?: ColumnDriftReport): DriftSummary => {
  const driftedColumns = columns.filter((c) => c.drifted).length;
  return {
    computed: true,
    reference: 'v3 test split',
    referenceRows: 1000,
    currentRows: 1000,
    columns,
    dataset: {
      drifted: driftedColumns / columns.length >= 0.5,
      driftedColumns,
      columns: columns.length,
      driftedShare: driftedColumns / columns.length,
    },
    ...(prediction ? { prediction } : {}),
  };
};

const noDrift: DriftSummary = { computed: false, reason: 'no baseline' };

describe('judgeWindow', () => {
  it('alerts on each drifted feature with what was observed and expected, and retrains on dataset drift', () => {
    const j = judgeWindow(
      w,
      settings(),
      performance(0.69),
      drift([column('a', true, 1e-9), column('b', true), column('c', false)]),
    );
    assert.deepEqual(j.driftedFeatures, ['a', 'b']);
    assert.deepEqual(
      j.alerts.map((a) => [a.code, a.subject, a.observed, a.expected]),
      [
        ['FeatureDrift', 'flight-delay/a', 'ks p=1.00e-9; mean 0.2000 -> 0.3500', 'ks p >= 0.05'],
        ['FeatureDrift', 'flight-delay/b', 'wasserstein 0.2500; mean 0.2000 -> 0.3500', 'wasserstein < 0.1'],
      ],
    );
    assert.deepEqual(j.retrainReasons, ['dataset drift: 2 of 3 features (a, b) >= share 0.5']);
    assert.equal(j.degraded, false);
  });

  it('alerts on drift without retraining when the spec does not retrain on it', () => {
    const off = settings({ retrainOn: { datasetDrift: false, degradation: true, predictionDrift: false } });
    const j = judgeWindow(w, off, performance(0.7), drift([column('a', true), column('b', true)]));
    assert.equal(j.alerts.length, 2);
    assert.deepEqual(j.retrainReasons, []);
  });

  it('retrains on prediction drift only when the spec asks to', () => {
    const d = drift([column('a', false)], column('prediction', true));
    assert.deepEqual(judgeWindow(w, settings(), performance(0.7), d).retrainReasons, []);
    const on = settings({ retrainOn: { datasetDrift: true, degradation: true, predictionDrift: true } });
    assert.deepEqual(judgeWindow(w, on, performance(0.7), d).retrainReasons, ['prediction drift: wasserstein 0.2500']);
  });

  it('judges a fall in AUC beyond maxDrop as degradation, a fall of exactly maxDrop as not', () => {
    const fell = judgeWindow(w, settings(), performance(0.6), noDrift);
    assert.equal(fell.degraded, true);
    assert.deepEqual(fell.alerts[0], {
      code: 'ModelDegraded',
      subject: 'flight-delay/auc',
      message: 'flight-delay v3 auc fell in 2001-03-01..2001-03-14',
      observed: 'auc 0.6000 on 5000 labelled rows',
      expected: 'within 0.05 of 0.7000 (test split)',
    });
    assert.deepEqual(fell.retrainReasons, ['degradation: auc 0.6000 vs 0.7000 (max drop 0.05)']);
    assert.equal(judgeWindow(w, settings(), performance(0.65), noDrift).degraded, false);
  });

  it('reads a rise as the fall for metrics where lower is better', () => {
    const logLoss = settings({ performance: { metric: 'logLoss', maxDrop: 0.05, minLabelled: 500 } });
    const worse = performance(0.7, { overall: metrics(0.7, 0.6), reference: metrics(0.7, 0.5) });
    const better = performance(0.7, { overall: metrics(0.7, 0.4), reference: metrics(0.7, 0.5) });
    assert.equal(judgeWindow(w, logLoss, worse, noDrift).degraded, true);
    assert.equal(judgeWindow(w, logLoss, better, noDrift).degraded, false);
  });

  it('does not judge performance the activity could not judge (too few labels)', () => {
    const j = judgeWindow(w, settings(), performance(0.3, { judged: false, labelled: 12 }), noDrift);
    assert.equal(j.degraded, false);
    assert.deepEqual(j.alerts, []);
    assert.deepEqual(j.retrainReasons, []);
  });

  it('alerts on a fallen segment while the whole holds, and judges no segment without a bound', () => {
    const p = performance(0.7, {
      bySegment: [
        { name: 'hub', labelled: 800, positives: 200, auc: 0.55, referenceAuc: 0.7 },
        { name: 'other', labelled: 800, positives: 200, auc: 0.69, referenceAuc: 0.7 },
      ],
    });
    const j = judgeWindow(w, settings(), p, noDrift);
    assert.equal(j.degraded, false);
    assert.deepEqual(
      j.fallenSegments.map((f) => f.segment),
      ['hub'],
    );
    assert.deepEqual(
      j.alerts.map((a) => [a.code, a.subject]),
      [['SegmentDegraded', 'flight-delay/hub']],
    );
    assert.deepEqual(j.retrainReasons, ['degradation of segment hub: AUC 0.5500 vs 0.7000 (max drop 0.1)']);
    const unbounded = settings({ performance: { metric: 'auc', maxDrop: 0.05, minLabelled: 500 } });
    assert.deepEqual(judgeWindow(w, unbounded, p, noDrift).alerts, []);
  });
});

describe('alertSeverity and monitoringOutcome', () => {
  it('pages on a degraded model only, and says what was decided', () => {
    const j = judgeWindow(w, settings(), performance(0.6), drift([column('a', true), column('b', false)]));
    assert.deepEqual(
      j.alerts.map((a) => [a.code, alertSeverity(a)]),
      [
        ['FeatureDrift', 'warning'],
        ['ModelDegraded', 'critical'],
      ],
    );
    assert.equal(
      monitoringOutcome(j, { started: true, workflowId: 'retrain/flight-delay/x', why: 'r' }),
      '1 drifted feature(s), degraded; retraining retrain/flight-delay/x',
    );
    assert.equal(
      monitoringOutcome(judgeWindow(w, settings(), performance(0.7), noDrift), {
        started: false,
        why: 'no trigger crossed',
      }),
      '0 drifted feature(s); no trigger crossed',
    );
  });
});
