import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The name the server certificate is issued for; clients reach it by 127.0.0.1 and override the name. */
export const TLS_SERVER_NAME = 'temporal.test';
export const CLIENT_CN = 'mlpipe-test-client';

/** Paths of PEM files in a temporary directory: a CA and what it signed, and an unrelated CA. */
export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Signed nothing here: a client trusting only this CA must refuse the server. */
  otherCaCert: string;
  remove(): void;
}

/**
 * Generates the certificates with the openssl CLI, at test time: no key material lives in the repo.
 * P-256 keys (fast to make, accepted by both grpc-js and the worker's rustls) and v3 extensions
 * (basicConstraints, SAN, extendedKeyUsage), which rustls's strict verifier requires.
 */
export function createTestPki(): TestPki {
  const dir = fs.mkdtempSync(path.join(process.env.MLPIPE_TEST_TMP ?? os.tmpdir(), 'pki-'));
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  const ca = (name: string, cn: string) =>
    openssl(
      'req',
      '-x509',
      ...newKey,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.pem`),
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
  const leaf = (name: string, cn: string, extensions: string) => {
    fs.writeFileSync(
      file(`${name}.ext`),
      `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n${extensions}\n`,
    );
    openssl(
      'req',
      '-new',
      ...newKey,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.csr`),
      '-subj',
      `/CN=${cn}`,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      file(`${name}.ext`),
      '-out',
      file(`${name}.pem`),
    );
  };

  ca('ca', 'mlpipe test CA');
  ca('other-ca', 'unrelated test CA');
  leaf('server', TLS_SERVER_NAME, `subjectAltName=DNS:${TLS_SERVER_NAME},IP:127.0.0.1\nextendedKeyUsage=serverAuth`);
  leaf('client', CLIENT_CN, 'extendedKeyUsage=clientAuth');
  return {
    dir,
    caCert: file('ca.pem'),
    serverCert: file('server.pem'),
    serverKey: file('server.key'),
    clientCert: file('client.pem'),
    clientKey: file('client.key'),
    otherCaCert: file('other-ca.pem'),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** The base64 lines of a PEM file, without its BEGIN/END lines: what a leak of the key would contain. */
export function pemBodyLines(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('-----'));
}
