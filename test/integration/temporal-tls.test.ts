import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startIngestion } from '../../src/client/ingestion';
import type { Config } from '../../src/config';
import { connectClient, ServerUnreachableError } from '../../src/temporal/client';
import { mlpipe, type CliResult } from '../helpers/cli';
import { freshAsOf, writeSource } from '../helpers/sources';
import { spawnWorker, testConfig, uniqueTaskQueue, waitFor, type WorkerProcess } from '../helpers/temporal';
import { CLIENT_CN, createTestPki, pemBodyLines, TLS_SERVER_NAME, type TestPki } from '../helpers/test-pki';
import { startTlsProxy, type TlsProxy } from '../helpers/tls-proxy';

/**
 * The TLS settings (TEMPORAL_TLS_*, TEMPORAL_API_KEY) against a real TLS endpoint: the dev server
 * behind a TLS-terminating proxy, one requiring a client certificate (a self-hosted cluster with mTLS),
 * one not (TLS with an API key, like Temporal Cloud). The client (CLI), the worker (the SDK's Rust
 * core: a TLS stack of its own) and the `mlpipe` binary all connect through it; misconfigurations
 * fail fast with a reason; neither the client key nor the API key reaches any output.
 */
const API_KEY = 'key-SECRET-tls-5d1e';
const CONNECT_TIMEOUT_MS = 3_000;
let pki: TestPki;
let mtls: TlsProxy;
let tlsOnly: TlsProxy;
let keyLines: string[];
const workers: WorkerProcess[] = [];

before(async () => {
  pki = createTestPki();
  keyLines = pemBodyLines(pki.clientKey);
  mtls = await startTlsProxy(pki, { requireClientCert: true });
  tlsOnly = await startTlsProxy(pki, { requireClientCert: false });
});
after(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await mtls?.close();
  await tlsOnly?.close();
  pki?.remove();
});

/** The settings a production deployment would set, pointing at one of the proxies. */
function tlsEnv(proxy: TlsProxy, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: proxy.address,
    TEMPORAL_TLS_CA_PATH: pki.caCert,
    TEMPORAL_TLS_SERVER_NAME: TLS_SERVER_NAME,
    ...extra,
  };
}
function clientPair(): Record<string, string> {
  return { TEMPORAL_TLS_CERT_PATH: pki.clientCert, TEMPORAL_TLS_KEY_PATH: pki.clientKey };
}

/** A worker process (`mlpipe worker`) whose stderr is kept too, for the leak checks. */
function startWorkerProcess(
  config: Config,
  env: Record<string, string>,
  taskQueue: string,
): WorkerProcess & { stderr(): string } {
  const worker = spawnWorker(config, taskQueue, { ...env, LOG_LEVEL: 'debug' });
  workers.push(worker);
  let stderr = '';
  worker.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return Object.assign(worker, { stderr: () => stderr });
}

/** The private key's PEM body and the API key: in no output, on success or failure. */
function assertNoSecrets(output: string, where: string): void {
  for (const line of keyLines)
    assert.ok(!output.includes(line), `${where}: prints a line of the client key's PEM body`);
  assert.ok(!output.includes(API_KEY), `${where}: prints the API key`);
}

/** Connecting must fail within the connect timeout (plus process start-up), not hang or retry forever. */
async function timed<T>(run: () => Promise<T>, boundMs: number, what: string): Promise<T> {
  const start = Date.now();
  const result = await run();
  const elapsed = Date.now() - start;
  assert.ok(elapsed < boundMs, `${what} took ${elapsed} ms (bound ${boundMs} ms)`);
  return result;
}

/** What a failed TLS connection's message points the operator at. */
const TLS_SETTINGS_NAMED = /TEMPORAL_TLS_CA_PATH.*TEMPORAL_TLS_SERVER_NAME.*TEMPORAL_TLS_CERT_PATH/;

async function expectClientRefused(env: Record<string, string>): Promise<ServerUnreachableError> {
  const config = testConfig({ ...env, TEMPORAL_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS) });
  const error = await timed(
    () =>
      connectClient(config).then(
        () => assert.fail('connected'),
        (e: unknown) => e,
      ),
    CONNECT_TIMEOUT_MS + 2_000,
    'the client',
  );
  assert.ok(error instanceof ServerUnreachableError, `expected ServerUnreachableError, got ${String(error)}`);
  assert.ok(error.message.includes(config.TEMPORAL_ADDRESS), `the message names the address: ${error.message}`);
  assert.match(error.message, TLS_SETTINGS_NAMED, 'and the TLS settings to check');
  return error;
}

async function expectCliRefused(args: string[], env: Record<string, string>): Promise<CliResult> {
  const r = await timed(
    () => mlpipe(args, { ...env, TEMPORAL_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS) }, 60_000),
    CONNECT_TIMEOUT_MS + 20_000,
    `mlpipe ${args.join(' ')}`,
  );
  assert.equal(r.code, 1, `mlpipe ${args.join(' ')} exits 1: ${r.stderr}`);
  assert.match(
    r.stderr,
    new RegExp(`^mlpipe ${args[0]}: .*${env.TEMPORAL_ADDRESS!.replace(/\./g, '\\.')}`),
    'one line naming the address',
  );
  assert.match(r.stderr, TLS_SETTINGS_NAMED, 'and the TLS settings to check');
  assertNoSecrets(r.stdout + r.stderr, `mlpipe ${args.join(' ')}`);
  return r;
}

test('mTLS: a worker process, the client and `mlpipe status` work through the proxy, presenting the client certificate', async () => {
  const env = tlsEnv(mtls, clientPair());
  const config = testConfig(env);
  const taskQueue = uniqueTaskQueue('tls');
  const handshakesBefore = mtls.accepted.length;
  const worker = startWorkerProcess(config, env, taskQueue);
  const client = await connectClient(config);
  try {
    const source = await writeSource(
      config,
      'tls.parquet',
      `SELECT * FROM flights WHERE date < TIMESTAMP '2001-01-03'`,
    );
    const handle = await startIngestion(client, config, {
      spec: 'flights',
      batch: 'tls-1',
      source,
      asOf: await freshAsOf(config, source),
      taskQueue,
    });
    const result = await handle.result();
    assert.ok(result.rowsAccepted > 0, 'the worker ingested the batch');

    const status = await mlpipe(['status', handle.workflowId, '--json'], env);
    assert.equal(status.code, 0, status.stderr);
    assert.equal(JSON.parse(status.stdout).status, 'COMPLETED');
    // The query behind `progress` is answered by the worker, over its own TLS connection.
    assert.equal(JSON.parse(status.stdout).progress?.stage, 'Completed');
    assertNoSecrets(status.stdout + status.stderr, 'mlpipe status');
  } finally {
    await client.connection.close();
  }
  worker.child.kill('SIGTERM');
  assert.equal(await worker.exited, 0, worker.stderr());
  assertNoSecrets(`${JSON.stringify(worker.logs)}\n${worker.stderr()}`, 'the worker');
  assert.ok(
    worker.logs.some((l) => l.msg === 'worker ready'),
    'the worker logged (so the check above looked at something)',
  );

  const handshakes = mtls.accepted.slice(handshakesBefore);
  // At least one each from the worker (rustls), this test's client and the CLI (both grpc-js).
  assert.ok(handshakes.length >= 3, `handshakes through the proxy: ${JSON.stringify(handshakes)}`);
  assert.deepEqual(
    new Set(handshakes.map((h) => h.subject)),
    new Set([CLIENT_CN]),
    'every handshake presented the client certificate',
  );
  assert.deepEqual(new Set(handshakes.map((h) => h.alpn)), new Set(['h2']), 'and negotiated HTTP/2');
});

test('mTLS: without a client certificate the proxy refuses the handshake; the client and `mlpipe worker` fail fast, naming the address', async () => {
  const acceptedBefore = mtls.accepted.length;
  const refusedBefore = mtls.refused.length;
  const error = await expectClientRefused(tlsEnv(mtls));
  // grpc-js reports no reason beyond the deadline: the proxy's side is the evidence that TLS refused it.
  assert.ok(
    mtls.refused.slice(refusedBefore).some((r) => /peer did not return a certificate/.test(r.reason)),
    `the proxy refused the client for want of a certificate: ${JSON.stringify(mtls.refused.slice(refusedBefore))}`,
  );
  assertNoSecrets(error.message, 'the client error');
  const refusedBeforeWorker = mtls.refused.length;
  await expectCliRefused(['worker'], tlsEnv(mtls));
  // The worker's TLS stack (rustls, in the SDK's core) says CertificateRequired when the proxy's alert
  // arrives in time; under TLS 1.3 the client may finish its side first and see only a broken pipe or
  // a closed connection. Its message names the address and the TLS settings to check (expectCliRefused);
  // the proxy's side is the evidence of why.
  assert.ok(
    mtls.refused.slice(refusedBeforeWorker).some((r) => /peer did not return a certificate/.test(r.reason)),
    `the proxy refused the worker for want of a certificate: ${JSON.stringify(mtls.refused.slice(refusedBeforeWorker))}`,
  );
  assert.equal(mtls.accepted.length, acceptedBefore, 'no handshake completed');
});

test('a client trusting another CA, or expecting another server name, refuses the server', async () => {
  for (const [what, env, reason] of [
    ['wrong CA', tlsEnv(mtls, { ...clientPair(), TEMPORAL_TLS_CA_PATH: pki.otherCaCert }), /UnknownIssuer/],
    // The override is what is verified: the certificate is also valid for 127.0.0.1, the address dialled.
    [
      'wrong server name',
      tlsEnv(mtls, { ...clientPair(), TEMPORAL_TLS_SERVER_NAME: 'other.test' }),
      /NotValidForName.*other\.test/,
    ],
  ] as const) {
    const acceptedBefore = mtls.accepted.length;
    const error = await expectClientRefused(env);
    assertNoSecrets(error.message, `${what}: the client error`);
    const worker = await expectCliRefused(['worker'], env);
    assert.match(worker.stderr, reason, `${what}: the worker names the verification failure`);
    assert.equal(mtls.accepted.length, acceptedBefore, `${what}: no handshake completed`);
  }
});

test('an API key enables TLS: the client, a worker and the CLI connect without a client certificate, and the key is never printed', async () => {
  const env = tlsEnv(tlsOnly, { TEMPORAL_API_KEY: API_KEY });
  const handshakesBefore = tlsOnly.accepted.length;
  const config = testConfig(env);
  const client = await connectClient(config);
  try {
    const info = await client.workflowService.getSystemInfo({});
    assert.ok(info.capabilities, 'a real call answered through TLS');
  } finally {
    await client.connection.close();
  }
  const worker = startWorkerProcess(config, env, uniqueTaskQueue('tls-key'));
  await waitFor('the worker to connect', () => worker.logs.some((l) => l.msg === 'worker ready'), 60_000, 100);
  worker.child.kill('SIGTERM');
  assert.equal(await worker.exited, 0, worker.stderr());
  assertNoSecrets(`${JSON.stringify(worker.logs)}\n${worker.stderr()}`, 'the worker');

  // Connected through TLS, then failing: the error path most likely to dump request metadata.
  const unknown = await mlpipe(['status', 'ingest/flights/never-ran-tls'], env);
  assert.equal(unknown.code, 1, unknown.stderr);
  assert.match(unknown.stderr, /^mlpipe status: .*not found/i);
  assertNoSecrets(unknown.stdout + unknown.stderr, 'mlpipe status (unknown workflow)');

  const handshakes = tlsOnly.accepted.slice(handshakesBefore);
  assert.ok(
    handshakes.length >= 3,
    `the client, the worker and the CLI went through the proxy: ${JSON.stringify(handshakes)}`,
  );
  assert.ok(
    handshakes.every((h) => h.subject === '' && h.alpn === 'h2'),
    `TLS without a client certificate: ${JSON.stringify(handshakes)}`,
  );
  // Failing before any request is sent (a CA that does not match) does not print it either.
  await expectCliRefused(['status'], { ...env, TEMPORAL_TLS_CA_PATH: pki.otherCaCert });
});

// The CLI's default trust store is GRPC_DEFAULT_SSL_ROOTS_FILE_PATH if set (some images set it), else Node's:
// setting it to the test CA works either way.
test('TEMPORAL_TLS_SERVER_NAME alone turns TLS on, with the default trust store', async () => {
  const handshakesBefore = tlsOnly.accepted.length;
  const env = {
    TEMPORAL_ADDRESS: tlsOnly.address,
    TEMPORAL_TLS_SERVER_NAME: TLS_SERVER_NAME,
    GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: pki.caCert,
  };
  // An unknown workflow: "not found" is the server's answer, so the CLI got through.
  const r = await mlpipe(['status', 'ingest/flights/never-ran-tls'], env);
  assert.match(r.stderr, /^mlpipe status: .*not found/i);
  assert.ok(tlsOnly.accepted.length > handshakesBefore, 'over TLS');
});
