import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MetadataStore } from '../../src/store/database';
import type { PredictionLogInput } from '../../src/store/prediction-log';
import { describeOnSqlBackends } from '../helpers/sql-backends';

const entry = (overrides: Partial<PredictionLogInput> = {}): PredictionLogInput => ({
  requestId: 'req-1',
  modelName: 'flight-delay',
  modelVersion: 3,
  stage: 'production',
  featureSet: 'flight_delay',
  featureSetVersion: '1',
  eventTime: '2001-03-01T08:30:00Z',
  entityKeys: { origin: 'ORD', route: 'ORD-LAX' },
  request: { date: '2001-03-01T08:30:00', origin: 'ORD', destination: 'LAX', distance: 1745 },
  features: { origin_delay_share_7d: 0.25, log_distance: Math.log(1745) },
  score: 0.1234567890123,
  source: 'serving',
  createdAt: '2001-03-01T08:30:01Z',
  ...overrides,
});

describeOnSqlBackends('prediction log', ({ withStore }) => {
  test('an appended entry reads back exactly, doubles and JSON included', () =>
    withStore(async (store) => {
      assert.equal(await store.predictions.append([entry()]), 1);
      const [stored, ...rest] = await store.predictions.list({ modelName: 'flight-delay' });
      assert.equal(rest.length, 0);
      assert.equal(typeof stored?.id, 'number');
      assert.deepEqual(
        { ...stored, id: 0 },
        {
          ...entry(),
          id: 0,
          eventTime: '2001-03-01T08:30:00.000Z',
          createdAt: '2001-03-01T08:30:01.000Z',
        },
      );
    }));

  test('list and count by model, event-time window [from, to) and source, in event-time order', () =>
    withStore(async (store) => {
      await store.predictions.append([
        entry({ requestId: 'c', eventTime: '2001-03-03T00:00:00Z' }),
        // 2001-03-01T22:00Z: as raw text it would sort after 2001-03-02, so this checks normalisation.
        entry({ requestId: 'a', eventTime: '2001-03-02T01:00:00+03:00' }),
        entry({ requestId: 'b', eventTime: '2001-03-02T12:00:00Z', source: 'skew-check' }),
        entry({ requestId: 'other', modelName: 'weather-risk', eventTime: '2001-03-02T12:00:00Z' }),
      ]);
      const ids = async (options: Parameters<MetadataStore['predictions']['list']>[0]) =>
        (await store.predictions.list(options)).map((e) => e.requestId);

      assert.deepEqual(await ids({ modelName: 'flight-delay' }), ['a', 'b', 'c']);
      assert.deepEqual(
        await ids({ modelName: 'flight-delay', from: '2001-03-02T00:00:00Z', to: '2001-03-03T00:00:00Z' }),
        ['b'],
      );
      assert.deepEqual(await ids({ modelName: 'flight-delay', from: new Date('2001-03-01T22:00:00Z') }), [
        'a',
        'b',
        'c',
      ]);
      assert.deepEqual(await ids({ modelName: 'flight-delay', to: '2001-03-03T00:00:00Z', source: 'serving' }), ['a']);
      assert.deepEqual(await ids({ modelName: 'flight-delay', limit: 2 }), ['a', 'b']);
      assert.deepEqual(await ids({ modelName: 'nobody' }), []);

      assert.equal(await store.predictions.count({ modelName: 'flight-delay' }), 3);
      assert.equal(await store.predictions.count({ modelName: 'flight-delay', source: 'skew-check' }), 1);
      assert.equal(await store.predictions.count({ modelName: 'flight-delay', from: '2001-03-02T12:00:00Z' }), 2);
      assert.equal(await store.predictions.count({ modelName: 'weather-risk' }), 1);
    }));

  test('a large append spans several statements in one go', () =>
    withStore(async (store) => {
      const many = Array.from({ length: 1234 }, (_, i) => entry({ requestId: `r${i}`, score: i / 1234 }));
      assert.equal(await store.predictions.append(many), 1234);
      assert.equal(await store.predictions.count({ modelName: 'flight-delay' }), 1234);
      const scores = (await store.predictions.list({ modelName: 'flight-delay' })).map((e) => e.score);
      assert.deepEqual(
        scores,
        many.map((e) => e.score),
      );
    }));

  test('an invalid entry rejects the whole append: nothing is written', () =>
    withStore(async (store) => {
      for (const bad of [
        entry({ score: Number.NaN }),
        entry({ score: 1.5 }),
        entry({ features: { x: Number.POSITIVE_INFINITY } }),
        entry({ source: 'replay' as never }),
        entry({ modelVersion: 0 }),
        entry({ eventTime: 'yesterday' }),
      ]) {
        await assert.rejects(store.predictions.append([entry(), bad]));
      }
      assert.equal(await store.predictions.count({ modelName: 'flight-delay' }), 0);
      await assert.rejects(store.predictions.list({ modelName: 'flight-delay', limit: 0 }));
    }));
});
