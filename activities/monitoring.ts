import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { queryRows, sqlIdent, sqlString, withConnection } from '../src/data/duckdb';
import { writeFileAtomic } from '../src/data/atomic-files';
import { readMatrixFromDuckDB } from '../src/data/read-matrix';
import { addDays, partitionRange } from '../src/features/partition-dates';
import { readMatrixFile, writeMatrixFile } from '../src/ml/matrix-file';
import type { FeatureMatrix } from '../src/ml/feature-matrix';
import { evaluate, type ModelMetrics } from '../src/ml/metrics';
import { computeDrift, PREDICTION_COLUMN } from '../src/monitoring/drift';
import { TrainingStepSchema, TrainingWindowSchema, type TrainingWindow } from './training-data';
import {
  LABELLED_SEGMENT,
  MONITOR_DAY,
  MONITOR_LABEL,
  requestColumnTypes,
  requestLabelsSql,
  windowMatrixSql,
} from '../src/monitoring/monitoring-sql';
import { renderReportHtml } from '../src/monitoring/report-html';
import { monitoringSettings, type MonitoringSettings } from '../src/monitoring/judgement';
import type { MonitoringReport } from '../src/monitoring/report-types';
import type { DriftSummary, PerformanceSummary } from '../src/monitoring/window-summaries';
import { segmentPerformance } from '../src/monitoring/segment-performance';
import { compareShadow } from '../src/monitoring/shadow-comparison';
import { WindowPredictions } from '../src/monitoring/window-predictions';
import { connectClient } from '../src/temporal/client';
import { workflowUiUrl } from '../src/temporal/ui-links';
import { segmentColumn } from '../src/training/training-sql';
import type { TrainingSpec } from '../src/training/training-spec';
import { trainingSpecOrFail } from './training-spec-input';
import { ErrorTypes } from '../src/api/errors';
import { runningRetrainingsQuery } from '../src/api/monitoring';
import type { ActivityDeps } from './deps';
import { callerRun } from './caller';
import { stepFiles, type StepFiles } from './step-files';
import { datasetFiles, labelDays } from '../src/data/dataset-files';
import { parseInput } from './parse-input';
import { recordDrift } from './pipeline-metrics';
import { readArtifact } from './training-model';
import { featurePartitionFiles } from './feature-partition-files';
import { scoreMatrixRange, withScorer } from '../src/ml/scorer';

/** A monitoring window is validated as a training window is: a spec and two days, in order. */
export type MonitoringWindow = TrainingWindow;

/** A monitoring step's argument: the window, what earlier steps published, and the version that scored it. */
const MonitoringStepSchema = TrainingStepSchema.and(z.object({ version: z.number().int().positive().optional() }));
type MonitoringStepInput = z.infer<typeof MonitoringStepSchema>;

/** What the steps publish, by file name (also the names in a legacy run's shared work area). */
const MONITORING_FILES = {
  batch: 'current.bin',
  served: 'served.json',
  labelled: 'served-labelled.json',
  /** The version that scored the window: legacy runs' later steps read it here. */
  scoredBy: 'scored-by.json',
} as const;

interface ServedPrediction {
  eventTime: string;
  day: string;
  score: number;
  /** A staged candidate's score of the same row, when one ran in shadow. */
  shadow?: { version: number; score: number };
  modelVersion: number;
  request: Record<string, unknown>;
}

interface LabelledServed {
  day: string;
  score: number;
  shadow?: { version: number; score: number };
  label: 0 | 1 | null;
  /** The label should be there by now (event time + label delay <= the data's newest event). */
  due: boolean;
}

export interface CollectedPredictions {
  /** The served predictions of the window (JSON), and the batch-scored rows when there were any. */
  served: string;
  batch?: string;
  modelName: string;
  version: number;
  featureSetVersion: string;
  threshold: number;
  batchRows: number;
  servingRows: number;
  /** Days of the window with a published feature partition (batch-scored). */
  scoredDays: number;
  /** Days without one: nothing to batch-score there (yet). */
  unscoredDays: string[];
}

/** A spec whose model is monitored, or a non-retryable InvalidInput. */
function monitoredSpec(name: string): { t: TrainingSpec; monitoring: NonNullable<TrainingSpec['spec']['monitoring']> } {
  const t = trainingSpecOrFail(name);
  if (!t.spec.monitoring)
    throw ApplicationFailure.nonRetryable(`spec ${name} declares no monitoring settings`, ErrorTypes.InvalidInput);
  return { t, monitoring: t.spec.monitoring };
}

export function createMonitoringActivities(deps: ActivityDeps) {
  const { duck, store, artifacts, config } = deps;
  let client: Promise<Client> | undefined;

  /** The spec, the window and the step's files (the URIs of what earlier steps published), or InvalidInput. */
  const context = async (raw: unknown) => {
    const window = parseInput(MonitoringStepSchema, raw);
    const { t, monitoring } = monitoredSpec(window.spec);
    const files = await stepFiles(artifacts, { kind: 'monitoring', name: t.model.name }, window.inputs);
    const open = (name: keyof typeof MONITORING_FILES) => files.input(name, MONITORING_FILES[name]);
    /** The batch-scored rows, when the window had a published feature partition. */
    const batch = async () => {
      const file = await files.optionalInput('batch', MONITORING_FILES.batch);
      return file === undefined ? undefined : readMatrixFile(file);
    };
    return { t, monitoring, window, files, open, batch };
  };
  const readJson = async <T>(file: string): Promise<T> => JSON.parse(await fs.readFile(file, 'utf8')) as T;
  const production = async (t: TrainingSpec) => {
    const version = await store.models.production(t.model.name);
    if (!version)
      throw ApplicationFailure.nonRetryable(
        `${t.model.name} has no production version to monitor`,
        ErrorTypes.NoProductionModel,
      );
    return version;
  };
  /**
   * The version that scored the window, as collectPredictions returned it (a legacy run: recorded it in
   * its work area): performance and drift judge that version even when another is promoted mid-run. A
   * run collected by a worker from before the record existed falls back to the current production version.
   */
  const scoringVersion = async (
    t: TrainingSpec,
    input: { version?: number },
    files: StepFiles,
  ): Promise<Awaited<ReturnType<typeof production>>> => {
    const recordedBy = async () => {
      const file = await files.optionalInput('scoredBy', MONITORING_FILES.scoredBy);
      return file === undefined ? undefined : (await readJson<{ version: number }>(file)).version;
    };
    const recorded = input.version ?? (await recordedBy());
    if (recorded === undefined) return production(t);
    const version = await store.models.get(t.model.name, recorded);
    if (!version)
      throw ApplicationFailure.nonRetryable(
        `${t.model.name} v${recorded}, which scored this window, is not in the registry`,
        ErrorTypes.NoProductionModel,
      );
    return version;
  };

  return {
    /** The watched model and the spec's thresholds: the workflow needs both before anything runs (it cannot read specs itself). */
    async planMonitoring(raw: MonitoringWindow): Promise<{ modelName: string; settings: MonitoringSettings }> {
      const window = parseInput(TrainingWindowSchema, raw);
      const { t, monitoring } = monitoredSpec(window.spec);
      return { modelName: t.model.name, settings: monitoringSettings(monitoring) };
    },

    /** Kept for monitoring runs started before planMonitoring (their histories call it). */
    async monitoringSettings(raw: { spec: string }): Promise<MonitoringSettings> {
      const { spec } = parseInput(z.object({ spec: z.string().min(1) }), raw);
      return monitoringSettings(monitoredSpec(spec).monitoring);
    },

    /**
     * The window's predictions: the production model batch-scores every published feature row of the
     * window (kept as a matrix of model inputs and scores, tagged with the model and feature-set
     * version), and the serving log adds what clients were answered in the window.
     */
    async collectPredictions(raw: MonitoringStepInput): Promise<CollectedPredictions> {
      const { t, window, files: stepFiles } = await context(raw);
      const version = await production(t);
      const modelDir = await artifacts.open(version.artifactUri);
      const artifact = await readArtifact(path.join(modelDir, 'model.json'));
      const days = partitionRange(window.from, window.to);
      const published = new Set(await store.features.publishedPartitions(t.fs.name, t.fs.version, days));
      const files: string[] = [];
      for (const d of days.filter((x) => published.has(x)))
        files.push(...(await featurePartitionFiles(artifacts, t.fs, d)));
      const out = await stepFiles.output('collect');
      let batchRows = 0;
      if (files.length > 0) {
        const matrix = await withConnection(duck, (conn) =>
          readMatrixFromDuckDB(conn, windowMatrixSql(t, files), {
            features: t.features,
            label: MONITOR_LABEL,
            day: MONITOR_DAY,
            segments: [...t.model.segments.map((s) => segmentColumn(s.name)), LABELLED_SEGMENT],
          }),
        );
        matrix.segments = [...t.model.segments.map((s) => s.name), LABELLED_SEGMENT];
        const scores = await withScorer(artifact, modelDir, (scorer) =>
          scoreMatrixRange(scorer, matrix, { start: 0, end: matrix.rows }),
        );
        await writeMatrixFile(out.file(MONITORING_FILES.batch), {
          ...matrix,
          features: [...matrix.features, PREDICTION_COLUMN],
          columns: [...matrix.columns, scores],
        });
        batchRows = matrix.rows;
      } else {
        await fs.rm(out.file(MONITORING_FILES.batch), { force: true });
      }
      const logged = await store.predictions.list({
        modelName: t.model.name,
        from: `${window.from}T00:00:00.000Z`,
        to: `${addDays(window.to, 1)}T00:00:00.000Z`,
        source: 'serving',
      });
      const servedRows: ServedPrediction[] = logged.map((e) => ({
        eventTime: e.eventTime,
        day: e.eventTime.slice(0, 10),
        score: e.score,
        ...(e.shadow ? { shadow: e.shadow } : {}),
        modelVersion: e.modelVersion,
        request: e.request,
      }));
      await writeFileAtomic(out.file(MONITORING_FILES.served), JSON.stringify(servedRows));
      await writeFileAtomic(out.file(MONITORING_FILES.scoredBy), JSON.stringify({ version: version.version }));
      await out.publish();
      return {
        served: out.uri(MONITORING_FILES.served),
        ...(batchRows > 0 ? { batch: out.uri(MONITORING_FILES.batch) } : {}),
        modelName: t.model.name,
        version: version.version,
        featureSetVersion: t.fs.version,
        threshold: artifact.threshold,
        batchRows,
        servingRows: servedRows.length,
        scoredDays: published.size,
        unscoredDays: days.filter((d) => !published.has(d)),
      };
    },

    /**
     * Labels that arrived later: each served prediction is matched to its row in the published dataset
     * (the newest snapshot, or the day partitions of the window and its label delay). One with no row yet is awaiting its label while its label delay has not passed (counted,
     * never dropped) and missing after.
     */
    async joinLabels(raw: MonitoringStepInput): Promise<{
      uri: string;
      asOf: string | null;
      batchLabelled: number;
      servingLabelled: number;
      awaiting: number;
      missing: number;
    }> {
      const { t, monitoring, window, files: stepFiles, open, batch: readBatch } = await context(raw);
      const rows = await readJson<ServedPrediction[]>(await open('served'));
      const files = await datasetFiles(deps, t.spec, labelDays(window.from, window.to, monitoring.labelDelayHours));
      // The requests go to DuckDB through a scratch file of this attempt's own.
      const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'mlpipe-labels-'));
      const { labels, asOf } = await withConnection(duck, async (conn) => {
        if (files.length === 0) return { labels: new Map<number, boolean | null>(), asOf: null };
        const [newest] = await queryRows<{ asOf: string | null }>(
          conn,
          `SELECT strftime(max(${sqlIdent(t.spec.contract.eventTime)}), '%Y-%m-%dT%H:%M:%S') AS asOf FROM read_parquet([${files.map(sqlString).join(', ')}])`,
        );
        if (rows.length === 0) return { labels: new Map<number, boolean | null>(), asOf: newest?.asOf ?? null };
        const requests = path.join(scratch, 'requests.jsonl');
        await fs.writeFile(requests, rows.map((r, idx) => JSON.stringify({ idx, ...r.request })).join('\n'));
        const types = Object.entries(requestColumnTypes(t)).map(
          ([name, type]) => `${sqlString(name)}: ${sqlString(type)}`,
        );
        await conn.run(
          `CREATE OR REPLACE TEMP TABLE requests AS SELECT * FROM read_json(${sqlString(requests)}, format = 'newline_delimited', columns = {'idx': 'BIGINT', ${types.join(', ')}})`,
        );
        const found = await queryRows<{ idx: number; label: boolean | null }>(conn, requestLabelsSql(t, files));
        return { labels: new Map(found.map((f) => [Number(f.idx), f.label])), asOf: newest?.asOf ?? null };
      }).finally(() => fs.rm(scratch, { recursive: true, force: true }));
      const horizon = asOf ? Date.parse(`${asOf}Z`) : -Infinity;
      const joined: LabelledServed[] = rows.map((r, idx) => {
        const label = labels.get(idx);
        return {
          day: r.day,
          score: r.score,
          ...(r.shadow ? { shadow: r.shadow } : {}),
          label: label === undefined || label === null ? null : label ? 1 : 0,
          due: Date.parse(r.eventTime) + monitoring.labelDelayHours * 3_600_000 <= horizon,
        };
      });
      const out = await stepFiles.output('join');
      await writeFileAtomic(out.file(MONITORING_FILES.labelled), JSON.stringify(joined));
      await out.publish();
      const batch = await readBatch();
      const mask = batch?.segmentMasks[batch.segments.indexOf(LABELLED_SEGMENT)];
      return {
        uri: out.uri(MONITORING_FILES.labelled),
        asOf,
        batchLabelled: mask ? mask.reduce((n, v) => n + v, 0) : 0,
        servingLabelled: joined.filter((j) => j.label !== null).length,
        awaiting: joined.filter((j) => j.label === null && !j.due).length,
        missing: joined.filter((j) => j.label === null && j.due).length,
      };
    },

    /** Performance where labels exist, overall and per day, against the model's own test-split metrics. */
    async computePerformance(raw: MonitoringStepInput): Promise<PerformanceSummary> {
      const { t, monitoring, window, files, open, batch: readBatch } = await context(raw);
      const version = await scoringVersion(t, window, files);
      const metrics = version.metrics as { test: ModelMetrics; segments?: Record<string, { auc?: number }> };
      const reference = metrics.test;
      const batch = await readBatch();
      const served = await readJson<LabelledServed[]>(await open('labelled'));
      const predictions = new WindowPredictions();
      if (batch) {
        const mask = batch.segmentMasks[batch.segments.indexOf(LABELLED_SEGMENT)]!;
        const prediction = batch.columns[batch.features.indexOf(PREDICTION_COLUMN)]!;
        for (let i = 0; i < batch.rows; i++)
          predictions.add(batch.days[batch.dayIndex[i]!]!, prediction[i]!, mask[i] ? (batch.labels[i] as 0 | 1) : null);
      }
      for (const s of served) predictions.add(s.day, s.score, s.label);
      const both = (l: Uint8Array) => l.includes(0) && l.includes(1);
      const y = Uint8Array.from(predictions.labels);
      const p = Float64Array.from(predictions.scores);
      const byDay = predictions.byDay();
      const judged = y.length >= monitoring.performance.minLabelled && both(y);
      const bySegment = batch
        ? segmentPerformance(batch, LABELLED_SEGMENT, PREDICTION_COLUMN, metrics.segments ?? {})
        : [];
      const shadow = compareShadow(served, reference.threshold);
      return {
        labelled: y.length,
        judged,
        ...(both(y) ? { overall: evaluate(y, p, reference.threshold) } : {}),
        reference,
        byDay,
        bySegment,
        ...(shadow.length ? { shadow } : {}),
      };
    },

    /** Drift of every model input and of the predictions, the window against the baseline set at promotion. */
    async computeWindowDrift(raw: MonitoringStepInput): Promise<DriftSummary> {
      const { t, monitoring, window, files, batch } = await context(raw);
      const version = await scoringVersion(t, window, files);
      const baselineUri = version.lineage.monitoringBaseline;
      if (typeof baselineUri !== 'string')
        return { computed: false, reason: `${t.model.name} v${version.version} has no monitoring baseline` };
      const currentMatrix: FeatureMatrix | undefined = await batch();
      if (!currentMatrix || currentMatrix.rows === 0)
        return { computed: false, reason: 'no batch-scored rows in the window (no published feature partition)' };
      const reference = await readMatrixFile(path.join(await artifacts.open(baselineUri), 'baseline.bin'));
      const drift = computeDrift({
        reference,
        current: currentMatrix,
        columns: t.features,
        settings: monitoring.drift,
      });
      recordDrift(t.model.name, drift.prediction ? [...drift.columns, drift.prediction] : drift.columns);
      return {
        computed: true,
        reference: baselineUri,
        referenceRows: reference.rows,
        currentRows: currentMatrix.rows,
        ...drift,
      };
    },

    /** Retraining runs of the model still running: none may start while one is in flight. */
    async retrainingsInFlight(raw: { model: string }): Promise<string[]> {
      const { model } = parseInput(z.object({ model: z.string().regex(/^[a-z][a-z0-9-]*$/) }), raw);
      // A failed connection is not kept: the activity's next attempt connects afresh.
      client ??= connectClient(config).catch((error: unknown) => {
        client = undefined;
        throw error;
      });
      const found: string[] = [];
      for await (const execution of (await client).workflow.list({ query: runningRetrainingsQuery(model) }))
        found.push(execution.workflowId);
      return found;
    },

    /** The report as JSON and as one self-contained HTML page, published under the model, window and run. */
    async writeMonitoringReport(raw: {
      window: MonitoringWindow;
      report: Omit<MonitoringReport, 'workflowId' | 'runId' | 'uiUrl' | 'generatedAt'>;
    }): Promise<{ reportUri: string; htmlPath: string }> {
      const window = parseInput(TrainingWindowSchema, raw.window);
      const { t } = monitoredSpec(window.spec);
      const { workflowId, runId } = callerRun();
      const report: MonitoringReport = {
        ...raw.report,
        workflowId,
        runId,
        uiUrl: workflowUiUrl(config.TEMPORAL_UI_URL, config.TEMPORAL_NAMESPACE, workflowId, runId),
        generatedAt: new Date().toISOString(),
      };
      const key = {
        kind: 'monitoring' as const,
        name: t.model.name,
        version: `${window.from}_${window.to}`,
        partition: runId,
      };
      const staging = artifacts.stagingDir(key);
      await fs.rm(staging, { recursive: true, force: true });
      await fs.mkdir(staging, { recursive: true });
      await fs.writeFile(path.join(staging, 'report.json'), JSON.stringify(report, null, 2));
      await fs.writeFile(path.join(staging, 'report.html'), renderReportHtml(report));
      // htmlPath: the report on this worker's host (with an object store, its cached copy).
      const published = await artifacts.publish(key);
      return { reportUri: artifacts.uri(key), htmlPath: path.join(published, 'report.html') };
    },
  };
}
