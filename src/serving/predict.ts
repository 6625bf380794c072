import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { scoreFeatureRows } from '../ml/scorer';
import { predictionLogRows } from '../store/prediction-log';
import type { ModelStage, PredictionSource } from '../store/tables';
import { formatZodError } from '../validation';
import { PreparedStatementPool } from '../data/duckdb-statement-pool';
import { assembleFeatures } from './assemble-features';
import type { ServingDeps } from './deps';
import type { FeatureSource } from './entity-features';
import { HttpError } from './errors';
import { EventRowBatches } from './event-batches';
import { PredictionLogBatches } from './log-batches';
import { ModelLoader } from './model-loader';
import { PredictEnvelopeSchema, type PredictRequest } from './request-schema';
import { servedModels, type ServedModel } from './served-models';

export interface Prediction {
  /** Probability of the positive class. */
  score: number;
  /** score >= the artifact's threshold. */
  positive: boolean;
  /** The model inputs as scored (after the training transform). */
  features: Record<string, number>;
  featureSources: Record<string, FeatureSource>;
}

export interface PredictResponse {
  requestId: string;
  model: string;
  version: number;
  /** The answering version's stage now (a version asked for by number may be in any stage). */
  stage: ModelStage;
  predictions: Prediction[];
}

/** Who asks: live traffic, or the staging skew check (whose rows monitoring leaves out). */
export type RequestSource = Extract<PredictionSource, 'serving' | 'skew-check'>;

/**
 * Builds the predict operation: validate the request against the model's contract, pick the
 * registry version, assemble features, score, and log every prediction before answering.
 */
export interface Predictor {
  predict(body: unknown, source: RequestSource): Promise<PredictResponse>;
  /** Closes the DuckDB connections and model sessions the predictor keeps; the deps stay open (the caller's). */
  close(): Promise<void>;
}

export function createPredictor(deps: ServingDeps): Predictor {
  const models = servedModels();
  const loader = new ModelLoader(deps.store.models, deps.artifacts);
  const statements = new PreparedStatementPool(deps.duck);
  const events = new EventRowBatches(statements);
  const log = new PredictionLogBatches(deps.store.predictions);

  const predict = async (body: unknown, source: RequestSource): Promise<PredictResponse> => {
    const envelope = parse(PredictEnvelopeSchema, body);
    const served = models.get(envelope.model);
    if (!served)
      throw new HttpError(404, `unknown model ${envelope.model} (served: ${[...models.keys()].join(', ') || 'none'})`);
    const request = parse(served.requestSchema, body);
    const { version, artifact, scorer } = await loader.load(served, request);
    const rows = await assembleFeatures(events, deps.online, served, request.rows);
    const scores = await scoreFeatureRows(
      scorer,
      rows.map((r) => r.features),
    );
    const shadow = await shadowScores(served, request, rows);
    const requestId = request.requestId ?? randomUUID();

    const entries = rows.map((row, i) => ({
      requestId,
      modelName: version.modelName,
      modelVersion: version.version,
      stage: version.stage,
      featureSet: served.featureSet.name,
      featureSetVersion: served.featureSet.version,
      eventTime: row.eventTime,
      entityKeys: row.entityKeys,
      request: request.rows[i]!,
      features: row.features,
      score: scores[i]!,
      ...(shadow ? { shadow: { version: shadow.version, score: shadow.scores[i]! } } : {}),
      source,
    }));
    try {
      await log.write(predictionLogRows(entries));
    } catch (error) {
      // Monitoring judges the model by this log: a prediction that is not logged is not served.
      deps.logger.error({ err: error, requestId, model: version.modelName }, 'prediction log append failed');
      throw new HttpError(503, 'the prediction log is unavailable: predictions are not served unlogged', {
        cause: error,
      });
    }

    return {
      requestId,
      model: version.modelName,
      version: version.version,
      stage: version.stage,
      predictions: rows.map((row, i) => ({
        score: scores[i]!,
        positive: scores[i]! >= artifact.threshold,
        features: row.features,
        featureSources: row.featureSources,
      })),
    };
  };
  /**
   * With the spec's `shadow`, production's answers are also scored by the staged candidate, if there is
   * one, and logged beside them; the client sees production's only. A shadow that fails to load or
   * score never fails the request: production answers alone and the failure is logged.
   */
  const shadowScores = async (
    served: ServedModel,
    request: PredictRequest,
    rows: { features: Record<string, number | null> }[],
  ): Promise<{ version: number; scores: Float64Array } | undefined> => {
    if (!served.model.shadow || request.version !== undefined || request.stage !== 'production') return undefined;
    try {
      const candidate = await loader.load(served, { stage: 'staging' });
      const scores = await scoreFeatureRows(
        candidate.scorer,
        rows.map((r) => r.features),
      );
      // Logged scores are probabilities: a shadow answering otherwise is reported, not logged.
      if (scores.some((x) => !(x >= 0 && x <= 1))) throw new Error('the shadow returned a score outside [0, 1]');
      return { version: candidate.version.version, scores };
    } catch (error) {
      if (error instanceof HttpError && error.statusCode === 404) return undefined; // no staged candidate
      deps.logger.warn(
        { err: error, model: served.model.name },
        'shadow scoring failed: answering with production alone',
      );
      return undefined;
    }
  };

  return {
    predict,
    close: async () => {
      statements.close();
      await loader.close();
    },
  };
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new HttpError(400, `invalid request: ${formatZodError(parsed.error)}`);
  return parsed.data;
}
