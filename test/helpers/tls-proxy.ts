import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { TestPki } from './test-pki';

/**
 * A TLS-terminating TCP proxy in front of the plaintext dev server (`temporal server start-dev` has no
 * TLS flags), standing in for a production frontend with TLS or mTLS. gRPC survives the hop: ALPN
 * negotiates h2 with the client, and the dev server speaks h2 without TLS to the proxy (prior knowledge).
 */
export interface TlsProxy {
  /** host:port for TEMPORAL_ADDRESS. */
  address: string;
  /** Completed handshakes: the client certificate's CN ('' without one) and the negotiated ALPN protocol. */
  readonly accepted: readonly { subject: string; alpn: string | false }[];
  /** Failed handshakes, with OpenSSL's reason (no client certificate, an alert from a distrustful client). */
  readonly refused: readonly { reason: string }[];
  close(): Promise<void>;
}

export async function startTlsProxy(
  pki: TestPki,
  options: { requireClientCert: boolean; upstream?: string },
): Promise<TlsProxy> {
  const upstream = options.upstream ?? process.env.TEMPORAL_ADDRESS;
  if (!upstream) throw new Error('startTlsProxy: no upstream (TEMPORAL_ADDRESS is not set)');
  const [upstreamHost, upstreamPort] = [
    upstream.slice(0, upstream.lastIndexOf(':')),
    Number(upstream.slice(upstream.lastIndexOf(':') + 1)),
  ];
  const accepted: { subject: string; alpn: string | false }[] = [];
  const refused: { reason: string }[] = [];
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {}); // a peer going away mid-stream is normal here; 'close' cleans up
  };

  const server = tls.createServer(
    {
      key: fs.readFileSync(pki.serverKey),
      cert: fs.readFileSync(pki.serverCert),
      ca: fs.readFileSync(pki.caCert),
      requestCert: options.requireClientCert,
      rejectUnauthorized: options.requireClientCert,
      ALPNProtocols: ['h2'],
    },
    (client) => {
      const cn = client.getPeerCertificate()?.subject?.CN ?? '';
      accepted.push({ subject: String(cn), alpn: client.alpnProtocol ?? false });
      const target = net.connect(upstreamPort, upstreamHost);
      track(client);
      track(target);
      client.pipe(target).pipe(client);
      client.on('close', () => target.destroy());
      target.on('close', () => client.destroy());
    },
  );
  server.on('tlsClientError', (error, socket) => {
    refused.push({ reason: error.message });
    socket.destroy();
  });
  // Port 0, not freePort(): the kernel's choice cannot be taken by someone else in between.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    accepted,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
