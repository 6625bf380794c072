import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';

/** Asserts loadConfig refuses env with a ConfigError whose message matches every pattern. */
function assertConfigError(env: NodeJS.ProcessEnv, ...patterns: RegExp[]): void {
  assert.throws(
    () => loadConfig(env),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      assert.equal(error.name, 'ConfigError');
      for (const pattern of patterns) assert.match(error.message, pattern);
      return true;
    },
  );
}

describe('loadConfig defaults', () => {
  it('fills every setting from an empty environment', () => {
    const config = loadConfig({});
    assert.equal(config.TEMPORAL_ADDRESS, '127.0.0.1:7233');
    assert.equal(config.TEMPORAL_NAMESPACE, 'default');
    assert.equal(config.TEMPORAL_TASK_QUEUE, 'ml-pipelines');
    assert.equal(config.TEMPORAL_UI_URL, 'http://127.0.0.1:8233');
    assert.equal(config.TEMPORAL_CONNECT_TIMEOUT_MS, 10_000);
    assert.equal(config.LOG_LEVEL, 'info');
    assert.equal(config.WORKER_MAX_CONCURRENT_ACTIVITIES, 4);
    assert.equal(config.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS, 20);
    assert.equal(config.WORKER_MAX_CACHED_WORKFLOWS, 200);
    assert.equal(config.WORKER_SHUTDOWN_GRACE_MS, 10_000);
    assert.equal(config.MLPIPE_DATA_DIR, 'data');
    assert.equal(config.TEMPORAL_API_KEY, undefined);
    assert.equal(config.TEMPORAL_TLS_CERT_PATH, undefined);
    assert.equal(config.TEMPORAL_TLS_KEY_PATH, undefined);
    assert.equal(config.MLPIPE_DATABASE_URL, undefined);
    assert.equal(config.MLPIPE_WEBHOOK_URL, undefined);
  });

  it('resolves the default data dir to an absolute path under the working directory', () => {
    const config = loadConfig({});
    assert.ok(path.isAbsolute(config.dataDir));
    assert.equal(config.dataDir, path.resolve(process.cwd(), 'data'));
  });

  it('resolves a relative MLPIPE_DATA_DIR to an absolute path and keeps an absolute one', () => {
    const relative = loadConfig({ MLPIPE_DATA_DIR: 'some/nested/../dir' });
    assert.ok(path.isAbsolute(relative.dataDir));
    assert.equal(relative.dataDir, path.resolve(process.cwd(), 'some/dir'));

    const absolute = path.join(os.tmpdir(), 'mlpipe-config-test');
    assert.equal(loadConfig({ MLPIPE_DATA_DIR: absolute }).dataDir, absolute);
  });

  it('defaults databaseUrl to sqlite:<dataDir>/metadata.sqlite', () => {
    const dir = path.join(os.tmpdir(), 'mlpipe-config-db');
    const config = loadConfig({ MLPIPE_DATA_DIR: dir });
    assert.equal(config.databaseUrl, `sqlite:${path.join(dir, 'metadata.sqlite')}`);
    assert.equal(loadConfig({}).databaseUrl, `sqlite:${path.resolve('data', 'metadata.sqlite')}`);
  });

  it('uses MLPIPE_DATABASE_URL when set (sqlite or postgres)', () => {
    const pg = 'postgresql://user:pass@db.example:5432/mlpipe';
    assert.equal(loadConfig({ MLPIPE_DATABASE_URL: pg }).databaseUrl, pg);
    assert.equal(loadConfig({ MLPIPE_DATABASE_URL: 'postgres://u@h/db' }).databaseUrl, 'postgres://u@h/db');
    assert.equal(loadConfig({ MLPIPE_DATABASE_URL: 'sqlite:/tmp/x.sqlite' }).databaseUrl, 'sqlite:/tmp/x.sqlite');
  });

  it('coerces numeric settings and accepts valid overrides', () => {
    const config = loadConfig({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      WORKER_MAX_CONCURRENT_ACTIVITIES: '8',
      WORKER_SHUTDOWN_GRACE_MS: '0',
      LOG_LEVEL: 'debug',
      TEMPORAL_TLS_CERT_PATH: '/certs/client.pem',
      TEMPORAL_TLS_KEY_PATH: '/certs/client.key',
    });
    assert.equal(config.TEMPORAL_ADDRESS, 'temporal.internal:7233');
    assert.equal(config.WORKER_MAX_CONCURRENT_ACTIVITIES, 8);
    assert.equal(config.WORKER_SHUTDOWN_GRACE_MS, 0);
    assert.equal(config.LOG_LEVEL, 'debug');
    assert.equal(config.TEMPORAL_TLS_CERT_PATH, '/certs/client.pem');
    assert.equal(config.TEMPORAL_TLS_KEY_PATH, '/certs/client.key');
  });

  it('ignores environment variables it does not know', () => {
    const config = loadConfig({ PATH: '/usr/bin', HOME: '/root', SOMETHING_ELSE: 'x' });
    assert.equal(config.TEMPORAL_ADDRESS, '127.0.0.1:7233');
    assert.equal((config as unknown as Record<string, unknown>).PATH, undefined);
  });
});

describe('loadConfig empty strings', () => {
  it('treats empty strings as unset, so defaults apply and no validation fails', () => {
    const config = loadConfig({
      TEMPORAL_ADDRESS: '',
      TEMPORAL_NAMESPACE: '',
      LOG_LEVEL: '',
      WORKER_MAX_CONCURRENT_ACTIVITIES: '',
      MLPIPE_DATA_DIR: '',
      MLPIPE_DATABASE_URL: '',
      MLPIPE_WEBHOOK_URL: '',
      TEMPORAL_TLS_CERT_PATH: '',
      TEMPORAL_TLS_KEY_PATH: '',
      TEMPORAL_API_KEY: '',
    });
    assert.equal(config.TEMPORAL_ADDRESS, '127.0.0.1:7233');
    assert.equal(config.TEMPORAL_NAMESPACE, 'default');
    assert.equal(config.LOG_LEVEL, 'info');
    assert.equal(config.WORKER_MAX_CONCURRENT_ACTIVITIES, 4);
    assert.equal(config.dataDir, path.resolve('data'));
    assert.equal(config.databaseUrl, `sqlite:${path.resolve('data', 'metadata.sqlite')}`);
    assert.equal(config.TEMPORAL_TLS_CERT_PATH, undefined);
    assert.equal(config.TEMPORAL_API_KEY, undefined);
  });

  it('counts an empty TLS key as unset, so a lone cert is still refused', () => {
    assertConfigError(
      { TEMPORAL_TLS_CERT_PATH: '/certs/client.pem', TEMPORAL_TLS_KEY_PATH: '' },
      /TEMPORAL_TLS_KEY_PATH/,
      /set together/,
    );
  });
});

describe('loadConfig malformed values', () => {
  it('refuses TEMPORAL_ADDRESS without a port', () => {
    assertConfigError({ TEMPORAL_ADDRESS: 'localhost' }, /TEMPORAL_ADDRESS/, /host:port/);
    assertConfigError({ TEMPORAL_ADDRESS: 'localhost:' }, /TEMPORAL_ADDRESS/, /host:port/);
    assertConfigError({ TEMPORAL_ADDRESS: 'http://localhost:7233' }, /TEMPORAL_ADDRESS/, /host:port/);
  });

  it('refuses a non-numeric or non-positive WORKER_MAX_CONCURRENT_ACTIVITIES', () => {
    assertConfigError(
      { WORKER_MAX_CONCURRENT_ACTIVITIES: 'many' },
      /WORKER_MAX_CONCURRENT_ACTIVITIES/,
      /expected number/,
    );
    assertConfigError({ WORKER_MAX_CONCURRENT_ACTIVITIES: '0' }, /WORKER_MAX_CONCURRENT_ACTIVITIES/);
    assertConfigError({ WORKER_MAX_CONCURRENT_ACTIVITIES: '2.5' }, /WORKER_MAX_CONCURRENT_ACTIVITIES/);
  });

  it('refuses an unknown LOG_LEVEL and lists the valid ones', () => {
    assertConfigError({ LOG_LEVEL: 'verbose' }, /LOG_LEVEL/, /"info"/, /"debug"/);
  });

  it('refuses MLPIPE_DATABASE_URL with a scheme other than sqlite or postgres', () => {
    assertConfigError(
      { MLPIPE_DATABASE_URL: 'mysql://u:p@h/db' },
      /MLPIPE_DATABASE_URL/,
      /sqlite:<file> or postgres:\/\//,
    );
    assertConfigError({ MLPIPE_DATABASE_URL: '/var/lib/metadata.sqlite' }, /MLPIPE_DATABASE_URL/);
  });

  it('refuses a TLS cert without a key, and a key without a cert, naming the missing one', () => {
    assertConfigError(
      { TEMPORAL_TLS_CERT_PATH: '/certs/client.pem' },
      /TEMPORAL_TLS_KEY_PATH: /,
      /must be set together/,
    );
    assertConfigError(
      { TEMPORAL_TLS_KEY_PATH: '/certs/client.key' },
      /TEMPORAL_TLS_CERT_PATH: /,
      /must be set together/,
    );
  });

  it('refuses a malformed URL setting', () => {
    assertConfigError({ TEMPORAL_UI_URL: 'not a url' }, /TEMPORAL_UI_URL/);
    assertConfigError({ MLPIPE_WEBHOOK_URL: 'nope' }, /MLPIPE_WEBHOOK_URL/);
  });

  it('prefixes the message with "invalid configuration"', () => {
    assertConfigError({ LOG_LEVEL: 'loud' }, /^invalid configuration: /);
  });
});
