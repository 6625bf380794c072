import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';
import { connectionOptions } from './connection-options';

export class ServerUnreachableError extends Error {
  override name = 'ServerUnreachableError';
}

/** Connects a client, failing within TEMPORAL_CONNECT_TIMEOUT_MS with a message naming the address. */
export async function connectClient(config: Config): Promise<Client> {
  const connection = await withTimeout(
    Connection.connect({ ...connectionOptions(config), connectTimeout: config.TEMPORAL_CONNECT_TIMEOUT_MS }),
    config.TEMPORAL_CONNECT_TIMEOUT_MS,
    config.TEMPORAL_ADDRESS,
  );
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, address: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ServerUnreachableError(`Temporal server at ${address} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } catch (error) {
    if (error instanceof ServerUnreachableError) throw error;
    throw new ServerUnreachableError(`cannot reach the Temporal server at ${address}: ${(error as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}
