import fs from 'node:fs';
import type { Config } from '../config';

/**
 * Connection settings shared by the client (CLI) and the worker: plain for the embedded dev server,
 * mTLS with a client certificate for a self-hosted cluster, an API key (with TLS) for Temporal Cloud.
 */
export function connectionOptions(config: Config) {
  const mtls = config.TEMPORAL_TLS_CERT_PATH && config.TEMPORAL_TLS_KEY_PATH;
  // Any TLS setting turns TLS on: a server name alone (its CA in the default trust store) must not mean plaintext.
  const tlsWanted = Boolean(
    mtls || config.TEMPORAL_API_KEY || config.TEMPORAL_TLS_CA_PATH || config.TEMPORAL_TLS_SERVER_NAME,
  );
  const tls = tlsWanted
    ? {
        serverNameOverride: config.TEMPORAL_TLS_SERVER_NAME,
        serverRootCACertificate: config.TEMPORAL_TLS_CA_PATH
          ? readSetting(config.TEMPORAL_TLS_CA_PATH, 'TEMPORAL_TLS_CA_PATH')
          : undefined,
        clientCertPair: mtls
          ? {
              crt: readSetting(config.TEMPORAL_TLS_CERT_PATH!, 'TEMPORAL_TLS_CERT_PATH'),
              key: readSetting(config.TEMPORAL_TLS_KEY_PATH!, 'TEMPORAL_TLS_KEY_PATH'),
            }
          : undefined,
      }
    : undefined;
  return {
    address: config.TEMPORAL_ADDRESS,
    tls,
    apiKey: config.TEMPORAL_API_KEY,
    metadata: config.TEMPORAL_API_KEY ? { 'temporal-namespace': config.TEMPORAL_NAMESPACE } : undefined,
  };
}

function readSetting(file: string, variable: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new Error(`${variable}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}
