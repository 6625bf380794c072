import type { OnlineStore } from '../features/online-store';
import { transformValue } from '../ml/feature-transform';
import { lookupEntityFeatures, type FeatureSource, type ServedFeature } from './entity-features';
import type { EventRowBatches } from './event-batches';
import type { RequestRow } from './request-schema';
import type { ServedModel } from './served-models';

/** One request row turned into model inputs. */
export interface AssembledRow {
  /** ISO instant of the row's event time. */
  eventTime: string;
  entityKeys: Record<string, string | null>;
  /** The model's inputs after the training transform (missing → default, clamped), in model order. */
  features: Record<string, number>;
  featureSources: Record<string, FeatureSource>;
}

/**
 * Event features and entity keys from the row (DuckDB, the offline SQL), entity features from the
 * online store as of the row's event time, then the same transform training applied.
 */
export async function assembleFeatures(
  events: EventRowBatches,
  online: OnlineStore,
  served: ServedModel,
  rows: readonly RequestRow[],
): Promise<AssembledRow[]> {
  const eventRows = await events.compute(served, rows);
  return Promise.all(
    eventRows.map(async (row) => {
      const fromEntities = await lookupEntityFeatures(online, served, row.entityKeys, row.eventTime);
      const features: Record<string, number> = {};
      const featureSources: Record<string, FeatureSource> = {};
      for (const t of served.transforms) {
        const value: ServedFeature | undefined =
          t.name in row.eventFeatures
            ? { value: row.eventFeatures[t.name] ?? null, source: 'event' }
            : fromEntities[t.name];
        // Unreachable for a valid spec: every model feature is an event feature or one of a looked-up entity.
        if (!value) throw new Error(`feature ${t.name} was neither computed nor looked up`);
        features[t.name] = transformValue(t, value.value);
        featureSources[t.name] = value.source;
      }
      return { eventTime: row.eventTime.toISOString(), entityKeys: row.entityKeys, features, featureSources };
    }),
  );
}
