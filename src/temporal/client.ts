import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';
import { connectionOptions } from './connection-options';

export class ServerUnreachableError extends Error {
  override name = 'ServerUnreachableError';
}

/**
 * Connects a client, failing within TEMPORAL_CONNECT_TIMEOUT_MS with a message naming the address.
 * A failed connection is closed: left open, its channel would keep retrying the handshake in the
 * background of a long-lived caller.
 */
export async function connectClient(config: Config): Promise<Client> {
  const options = connectionOptions(config);
  const connection = Connection.lazy({ ...options, connectTimeout: config.TEMPORAL_CONNECT_TIMEOUT_MS });
  try {
    await withTimeout(
      connection.ensureConnected(),
      config.TEMPORAL_CONNECT_TIMEOUT_MS,
      config.TEMPORAL_ADDRESS,
      tlsHint(options),
    );
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw error;
  }
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
}

/**
 * The client library does not say why a TLS handshake failed, nor does the worker's when the server
 * refuses a certificate after a TLS 1.3 handshake (it sees a broken pipe): this names the settings to check.
 */
export function tlsHint(options: { tls?: unknown }): string | undefined {
  return options.tls ? TLS_HINT : undefined;
}
const TLS_HINT =
  'over TLS: check TEMPORAL_TLS_CA_PATH, TEMPORAL_TLS_SERVER_NAME and, if the server requires one, the client certificate (TEMPORAL_TLS_CERT_PATH, TEMPORAL_TLS_KEY_PATH)';

export async function withTimeout<T>(promise: Promise<T>, ms: number, address: string, hint?: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ServerUnreachableError(
            `Temporal server at ${address} did not answer within ${ms} ms${hint ? ` (${hint})` : ''}`,
          ),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } catch (error) {
    if (error instanceof ServerUnreachableError) throw error;
    throw new ServerUnreachableError(
      `cannot reach the Temporal server at ${address}: ${(error as Error).message}${hint ? ` (${hint})` : ''}`,
    );
  } finally {
    clearTimeout(timer);
  }
}
