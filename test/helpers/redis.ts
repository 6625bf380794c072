import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { redisServerPath } from '../provision/redis';
import { freePort } from './ports';

export interface TestRedis {
  /** redis:// URL of the throwaway server. */
  url: string;
  /** Stops the server and deletes its dir; safe to call twice. */
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 10_000;

/**
 * Starts a throwaway redis-server on a free loopback port with persistence off (the data dies with
 * the test run) and its working dir in a fresh temp dir, and waits until it answers PING.
 */
export async function startRedis(): Promise<TestRedis> {
  const server = await redisServerPath();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlpipe-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const child = spawn(server, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<Error>((resolve) => {
    child.once('error', resolve);
    child.once('exit', (code, signal) =>
      resolve(new Error(`startRedis: redis-server exited (${code ?? signal})\n${output}`)),
    );
  });

  // Safety net when a test run dies before calling stop(): never leave a server behind.
  const killSync = (): void => {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killSync);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killSync);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };

  let failure: Error | undefined;
  void exited.then((error) => (failure = error));
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (!(await answersPing(port))) {
    if (failure === undefined && Date.now() > deadline) {
      failure = new Error(`startRedis: no PING reply within ${STARTUP_TIMEOUT_MS} ms\n${output}`);
    }
    if (failure !== undefined) {
      await stop();
      throw failure;
    }
    await sleep(50);
  }
  return { url: `redis://127.0.0.1:${port}`, stop };
}

/** One PING over a plain socket: no client library retry logic to wait through. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    socket.once('error', () => done(false));
    socket.setTimeout(1_000, () => done(false));
  });
}
