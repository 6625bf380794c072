import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, PinoTemporalLogger } from '../../src/logger';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { lines, logger: createLogger('info', stream) };
}

test('secrets never reach a log line, however deep', () => {
  const { lines, logger } = capture();
  logger.info(
    {
      apiKey: 'sk-live-1',
      config: { TEMPORAL_API_KEY: 'k2', MLPIPE_DATABASE_URL: 'postgres://u:pw@h/db' },
      tls: { clientCertPair: { key: 'PEM' } },
      headers: { authorization: 'Bearer t' },
    },
    'hello',
  );
  const text = JSON.stringify(lines);
  for (const secret of ['sk-live-1', 'k2', 'pw@h', 'PEM', 'Bearer t'])
    assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  assert.equal(lines[0]!.apiKey, '[redacted]');
});

test('the Temporal logger adapter keeps SDK metadata and levels, and drops task tokens', () => {
  const { lines, logger } = capture();
  const adapter = new PinoTemporalLogger(logger);
  adapter.warn('Activity failed', {
    workflowId: 'ingest/flights/x',
    activityType: 'ingestSource',
    taskToken: 'opaque',
  });
  adapter.debug('below the level');
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.level, 40);
  assert.equal(lines[0]!.workflowId, 'ingest/flights/x');
  assert.equal(lines[0]!.activityType, 'ingestSource');
  assert.equal(lines[0]!.taskToken, undefined);
  assert.equal(lines[0]!.msg, 'Activity failed');
});
