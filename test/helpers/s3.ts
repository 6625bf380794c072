import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { versitygwPath } from '../provision/s3';
import { freePort } from './ports';

export interface TestS3 {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY for it. */
  credentials: { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string };
  createBucket(name: string): Promise<void>;
  /** Stops the server and deletes its directory; safe to call twice. */
  stop(): Promise<void>;
}

/** The bucket `npm test` creates in its S3 server. */
export const TEST_BUCKET = 'mlpipe-test';

const STARTUP_TIMEOUT_MS = 15_000;

/** Starts a throwaway versitygw (posix backend in a fresh temp dir) on a free loopback port. */
export async function startS3(): Promise<TestS3> {
  const binary = await versitygwPath();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlpipe-s3-'));
  const port = await freePort();
  const credentials = { AWS_ACCESS_KEY_ID: 'mlpipe-test', AWS_SECRET_ACCESS_KEY: `secret-${process.pid}-${port}` };
  const child = spawn(
    binary,
    [
      '--access',
      credentials.AWS_ACCESS_KEY_ID,
      '--secret',
      credentials.AWS_SECRET_ACCESS_KEY,
      '--port',
      `127.0.0.1:${port}`,
      '--quiet',
      'posix',
      dir,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killSync = (): void => {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killSync);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: credentials.AWS_ACCESS_KEY_ID, secretAccessKey: credentials.AWS_SECRET_ACCESS_KEY },
  });
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killSync);
    client.destroy();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const createBucket = async (name: string) => {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  };
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    try {
      await createBucket('mlpipe-startup-probe');
      return { endpoint, credentials, createBucket, stop };
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`startS3: versitygw did not answer (${(error as Error).message})\n${output}`);
      }
      await sleep(100);
    }
  }
}
