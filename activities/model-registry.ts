import { PREDICTION_COLUMN } from '../src/monitoring/drift';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { sha256File, type ArtifactKey } from '../src/data/artifact-store';
import { readMatrixFile, writeMatrixFile } from '../src/ml/matrix-file';
import type { FeatureMatrix } from '../src/ml/feature-matrix';
import { biasChecks, checkBias, type BiasCheck } from '../src/ml/bias-gate';
import type { Evaluation } from '../src/ml/evaluation';
import { codeVersion } from '../src/training/code-version';
import { trainingSpecOrFail } from './training-spec-input';
import { ErrorTypes } from '../src/api/errors';
import type { ActivityDeps } from './deps';
import { callerRun } from './caller';
import { parseInput } from './parse-input';
import { readSplit, trainingContext, type TrainingStepInput } from './training-data';
import { legacyRunFile } from './step-files';
import { ModelArtifactSchema } from '../src/ml/model-artifact';
import { readArtifact } from './training-model';
import { scoreMatrixRange, withScorer } from '../src/ml/scorer';

const VersionInputSchema = z.object({ spec: z.string().min(1), version: z.number().int().positive() });
type VersionInput = z.infer<typeof VersionInputSchema>;
const person = z.string().regex(/^[A-Za-z0-9._@-]{1,100}$/);

const DecisionInputSchema = VersionInputSchema.extend({
  decision: z.enum(['approve', 'reject', 'timeout']),
  reviewer: z.string().min(1),
  reason: z.string(),
  at: z.string(),
});
const PromoteInputSchema = VersionInputSchema.extend({ approvedBy: person, comment: z.string().default('') });
const RollbackInputSchema = z.object({
  spec: z.string().min(1),
  toVersion: z.number().int().positive(),
  requestedBy: person,
  reason: z.string().min(1),
});

/** Where a registered version's files live: artifacts/models/<model>/<version>/<part>. */
const versionKey = (modelName: string, version: number | string, part: 'artifact' | 'baseline'): ArtifactKey => ({
  kind: 'models',
  name: modelName,
  version: String(version),
  partition: part,
});

export function createModelRegistryActivities(deps: ActivityDeps) {
  const { store, artifacts } = deps;
  const modelOf = trainingSpecOrFail;
  const evaluationOf = async (modelName: string, version: number): Promise<Evaluation> => {
    const dir = await artifacts.openKey(versionKey(modelName, version, 'artifact'));
    return (JSON.parse(await fs.readFile(path.join(dir, 'evaluation.json'), 'utf8')) as { test: Evaluation }).test;
  };

  /** Stages the run's files (copies, and files written here) and publishes them under a path fixed by the version. */
  async function publishFiles(
    key: ArtifactKey,
    copies: Record<string, string>,
    written: Record<string, string>,
  ): Promise<string> {
    const staging = artifacts.stagingDir(key);
    await fs.rm(staging, { recursive: true, force: true });
    await fs.mkdir(staging, { recursive: true });
    for (const [name, from] of Object.entries(copies)) await fs.copyFile(from, path.join(staging, name));
    for (const [name, text] of Object.entries(written)) await fs.writeFile(path.join(staging, name), text);
    await artifacts.publish(key);
    return artifacts.uri(key);
  }

  return {
    /** The candidate becomes the model's next version (a retry gets the same one), with its files and lineage. */
    async registerCandidate(
      raw: TrainingStepInput & { initiatedBy: string; reason: string },
    ): Promise<{ version: number; artifactUri: string }> {
      const ctx = await trainingContext(deps, raw);
      const { t, window } = ctx;
      const { initiatedBy, reason } = parseInput(z.object({ initiatedBy: person, reason: z.string() }), raw);
      const { workflowId, runId } = callerRun();
      const modelFile = await ctx.open('model');
      const artifact = await readArtifact(modelFile);
      const evaluationFile = await ctx.open('evaluation');
      const { test, validation } = JSON.parse(await fs.readFile(evaluationFile, 'utf8')) as {
        test: Evaluation;
        validation: Evaluation['overall'];
      };
      const split = await readSplit(ctx);
      const { version } = await store.models.register({
        modelName: t.model.name,
        registrationKey: `${workflowId}/${runId}`,
        artifactUri: artifacts.uri(versionKey(t.model.name, 0, 'artifact')).replace('/0/', '/{version}/'),
        metrics: {
          test: test.overall,
          validation,
          segments: Object.fromEntries(test.segments.map((s) => [s.name, s.metrics ?? { rows: s.rows, note: s.note }])),
        },
        lineage: {
          spec: t.spec.name,
          specVersion: t.spec.version,
          featureSet: t.fs.name,
          featureSetVersion: t.fs.version,
          codeVersion: codeVersion(),
          trainingDataHash: artifact.trainingDataHash,
          window: { spec: window.spec, from: window.from, to: window.to },
          // The matrix the model was built on: the monitoring baseline is scored from it at promotion.
          ...(window.inputs?.matrix ? { trainingMatrix: window.inputs.matrix } : {}),
          split: Object.fromEntries(
            Object.entries(split).map(([k, p]) => [k, { from: p.from, to: p.to, rows: p.rows }]),
          ),
          hyperParameters: artifact.hyperParameters,
          initiatedBy,
          reason,
        },
        workflowId,
        runId,
      });
      // A trainer's model brings its ONNX file and native files; model.json names them by file name.
      const modelFiles = artifact.kind === 'onnx' ? [artifact.onnx, ...artifact.native] : [];
      const key = versionKey(t.model.name, version, 'artifact');
      const artifactUri = await publishFiles(
        key,
        {
          'evaluation.json': evaluationFile,
          'split.json': await ctx.open('split'),
          ...Object.fromEntries(modelFiles.map((f) => [f, path.join(path.dirname(modelFile), f)])),
        },
        {
          'model.json': JSON.stringify(ModelArtifactSchema.parse({ ...artifact, metrics: test.overall }), null, 2),
        },
      );
      return { version, artifactUri };
    },

    /** Hard gate: any segment's metric outside the spec's bounds rejects the version, on record. */
    async checkBiasGate(raw: VersionInput): Promise<BiasCheck> {
      const input = parseInput(VersionInputSchema, raw);
      const { model } = modelOf(input.spec);
      const result = checkBias(await evaluationOf(model.name, input.version), model.bias);
      if (!result.passed) {
        const { workflowId, runId } = callerRun();
        await store.models.setStage(model.name, input.version, 'rejected');
        await store.models.recordDecision({
          dedupeKey: `${workflowId}/${runId}/bias`,
          modelName: model.name,
          version: input.version,
          decision: 'reject',
          actor: 'bias-gate',
          reason: result.summary,
          workflowId,
        });
        throw ApplicationFailure.nonRetryable(
          `${model.name} v${input.version} failed the bias gate: ${result.summary}`,
          ErrorTypes.BiasGateFailed,
          { bias: result, report: { checks: biasChecks(result) } },
        );
      }
      return result;
    },

    async deployToStaging(raw: VersionInput): Promise<{ displaced: number[] }> {
      const input = parseInput(VersionInputSchema, raw);
      return store.models.deployToStaging(modelOf(input.spec).model.name, input.version);
    },

    /** Who decided what, when and why, stored with the version; a rejected or timed-out version is marked rejected. */
    async recordApprovalDecision(raw: z.input<typeof DecisionInputSchema>): Promise<void> {
      const input = parseInput(DecisionInputSchema, raw);
      const { model } = modelOf(input.spec);
      const { workflowId, runId } = callerRun();
      const reason = input.decision === 'timeout' ? `no decision before the deadline ${input.reason}` : input.reason;
      await store.models.recordDecision({
        dedupeKey: `${workflowId}/${runId}/approval`,
        modelName: model.name,
        version: input.version,
        decision: input.decision,
        actor: input.reviewer,
        reason,
        workflowId,
      });
      if (input.decision !== 'approve') await store.models.setStage(model.name, input.version, 'rejected');
    },

    /**
     * Production now (the previous version archived, in one transaction), and the monitoring
     * baseline: the training window's model inputs, labels and scores, which drift is measured against.
     */
    async promoteModel(raw: z.input<typeof PromoteInputSchema>): Promise<{ previous?: number; baselineUri: string }> {
      const input = parseInput(PromoteInputSchema, raw);
      const { model } = modelOf(input.spec);
      const { workflowId, runId } = callerRun();
      const baselineUri = await writeBaseline(model.name, input.version);
      await store.models.extendLineage(model.name, input.version, { monitoringBaseline: baselineUri });
      const { previous } = await store.models.promote({
        dedupeKey: `${workflowId}/${runId}/promote`,
        modelName: model.name,
        version: input.version,
        decision: 'promote',
        actor: input.approvedBy,
        reason: input.comment || `approved by ${input.approvedBy}`,
        workflowId,
      });
      return { ...(previous ? { previous } : {}), baselineUri };
    },

    /** An earlier version back in production; only a version that was in production, and only by a reviewer. */
    async rollbackModel(
      raw: z.input<typeof RollbackInputSchema>,
    ): Promise<{ modelName: string; version: number; previous?: number }> {
      const input = parseInput(RollbackInputSchema, raw);
      const { model } = modelOf(input.spec);
      if (!model.reviewers.includes(input.requestedBy))
        throw ApplicationFailure.nonRetryable(
          `${input.requestedBy} is not a reviewer of ${model.name} (reviewers: ${model.reviewers.join(', ')})`,
          ErrorTypes.InvalidInput,
        );
      const target = await store.models.get(model.name, input.toVersion);
      if (!target)
        throw ApplicationFailure.nonRetryable(
          `${model.name} has no version ${input.toVersion}`,
          ErrorTypes.ModelVersionNotFound,
        );
      const wasInProduction = (await store.models.decisions(model.name, input.toVersion)).some(
        (d) => d.decision === 'promote' || d.decision === 'rollback',
      );
      if (!wasInProduction)
        throw ApplicationFailure.nonRetryable(
          `${model.name} v${input.toVersion} (${target.stage}) was never in production: promote it through a training run`,
          ErrorTypes.InvalidInput,
        );
      const { workflowId, runId } = callerRun();
      const { previous } = await store.models.promote({
        dedupeKey: `${workflowId}/${runId}/rollback`,
        modelName: model.name,
        version: input.toVersion,
        decision: 'rollback',
        actor: input.requestedBy,
        reason: input.reason,
        workflowId,
      });
      return { modelName: model.name, version: input.toVersion, ...(previous ? { previous } : {}) };
    },
  };

  async function writeBaseline(modelName: string, version: number): Promise<string> {
    const dir = await artifacts.openKey(versionKey(modelName, version, 'artifact'));
    const registered = await store.models.get(modelName, version);
    if (!registered)
      throw ApplicationFailure.nonRetryable(`${modelName} has no version ${version}`, ErrorTypes.ModelVersionNotFound);
    const { trainingMatrix } = registered.lineage;
    const matrixFile =
      typeof trainingMatrix === 'string'
        ? await artifacts.open(trainingMatrix)
        : await legacyRunFile(artifacts, { kind: 'models', name: modelName }, registered, 'matrix.bin');
    // The matrix the model was trained on, or the baseline would judge drift against other rows.
    const artifact = await readArtifact(path.join(dir, 'model.json'));
    const { trainingDataHash } = artifact;
    const sha256 = await sha256File(matrixFile);
    if (sha256 !== trainingDataHash)
      throw ApplicationFailure.nonRetryable(
        `${modelName} v${version} was trained on matrix ${trainingDataHash.slice(0, 12)}, but ${typeof trainingMatrix === 'string' ? trainingMatrix : matrixFile} is ${sha256.slice(0, 12)}: no monitoring baseline from other rows`,
        ErrorTypes.InvalidInput,
      );
    const matrix = await readMatrixFile(matrixFile);
    // The whole window, not the test split alone: a few test days would make every full week look like
    // drift (day of week, weekday traffic). These are the inputs the model was built on.
    const all = { start: 0, end: matrix.rows };
    const scores = await withScorer(artifact, dir, (scorer) => scoreMatrixRange(scorer, matrix, all));
    const baseline = withPrediction(matrix, all, scores);
    const key = versionKey(modelName, version, 'baseline');
    await fs.rm(artifacts.stagingDir(key), { recursive: true, force: true });
    await writeMatrixFile(path.join(artifacts.stagingDir(key), 'baseline.bin'), baseline);
    await artifacts.publish(key);
    return artifacts.uri(key);
  }
}

/** Rows [start, end) of a matrix with the model's score as an extra column named `prediction`. */
function withPrediction(m: FeatureMatrix, range: { start: number; end: number }, scores: Float64Array): FeatureMatrix {
  const firstDay = m.dayIndex[range.start]!;
  const lastDay = m.dayIndex[range.end - 1]!;
  const dayIndex = new Uint16Array(range.end - range.start);
  for (let i = range.start; i < range.end; i++) dayIndex[i - range.start] = m.dayIndex[i]! - firstDay;
  return {
    features: [...m.features, PREDICTION_COLUMN],
    segments: m.segments,
    rows: range.end - range.start,
    columns: [...m.columns.map((c) => c.subarray(range.start, range.end)), scores],
    labels: m.labels.subarray(range.start, range.end),
    days: m.days.slice(firstDay, lastDay + 1),
    dayIndex,
    segmentMasks: m.segmentMasks.map((s) => s.subarray(range.start, range.end)),
  };
}
