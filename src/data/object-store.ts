import fs from 'node:fs/promises';
import { createReadStream, createWriteStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';

/**
 * The object-store operations the artifact store needs, over any S3-compatible server: whole-object
 * puts (S3 makes each one atomic), conditional puts for the pointer objects readers resolve through,
 * reads pinned to an ETag, listings and deletes. Every failure is an ObjectStoreError whose `kind`
 * says whether trying again can help; no message carries a credential.
 */
export type ObjectStoreErrorKind =
  /** The server did not answer (or answered 5xx): worth retrying. */
  | 'unreachable'
  /** Wrong or missing credentials, or no permission: retrying cannot fix it. */
  | 'access-denied'
  | 'no-such-bucket'
  | 'not-found'
  /** A conditional request lost: the object is not the version the caller expected. */
  | 'precondition-failed';

export class ObjectStoreError extends Error {
  override name = 'ObjectStoreError';
  constructor(
    readonly kind: ObjectStoreErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface ObjectInfo {
  key: string;
  size: number;
  etag: string;
}

export interface ObjectStoreLocation {
  bucket: string;
  /** Key prefix every object of this store lives under ('' or ending in '/'). */
  prefix: string;
  /** For S3-compatible servers other than AWS (versitygw, MinIO): path-style addressing. */
  endpoint?: string;
  region: string;
}

export class ObjectStore {
  private readonly s3: S3Client;
  /** Requests sent and bytes moved so far (benchmarks report what the scratch cache saves). */
  readonly traffic = { requests: 0, bytesDown: 0, bytesUp: 0 };

  constructor(readonly location: ObjectStoreLocation) {
    this.s3 = new S3Client({
      region: location.region,
      ...(location.endpoint ? { endpoint: location.endpoint, forcePathStyle: true } : {}),
      // The SDK's own retries cover a dropped connection; a server that stays away is the activity's
      // retry policy's business, with backoff measured in seconds, not the SDK's milliseconds.
      maxAttempts: 3,
      // Credentials: the SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE,
      // ~/.aws, instance roles). They never pass through this project's code or logs.
    });
  }

  describe(): string {
    return `s3://${this.location.bucket}/${this.location.prefix}${this.location.endpoint ? ` at ${this.location.endpoint}` : ''}`;
  }

  /** Fails with a clear ObjectStoreError unless the bucket exists and these credentials may use it. */
  async check(): Promise<void> {
    await this.call('check the bucket', '', () =>
      this.s3.send(new HeadBucketCommand({ Bucket: this.location.bucket })),
    );
  }

  async putFile(key: string, file: string, condition: PutCondition = {}): Promise<string> {
    const { size } = await fs.stat(file);
    this.traffic.bytesUp += size;
    const out = await this.call('put', key, () =>
      this.s3.send(
        new PutObjectCommand({
          Bucket: this.location.bucket,
          Key: this.full(key),
          Body: createReadStream(file),
          ContentLength: size,
          ...condition,
        }),
      ),
    );
    return out.ETag!;
  }

  async putText(key: string, text: string, condition: PutCondition = {}): Promise<string> {
    const out = await this.call('put', key, () =>
      this.s3.send(
        new PutObjectCommand({ Bucket: this.location.bucket, Key: this.full(key), Body: text, ...condition }),
      ),
    );
    return out.ETag!;
  }

  /** The object's text and ETag, or undefined when there is none. */
  async getText(key: string): Promise<{ text: string; etag: string } | undefined> {
    try {
      const out = await this.call('get', key, () =>
        this.s3.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: this.full(key) })),
      );
      return { text: await out.Body!.transformToString(), etag: out.ETag! };
    } catch (error) {
      if (error instanceof ObjectStoreError && error.kind === 'not-found') return undefined;
      throw error;
    }
  }

  /** Downloads an object to `file` (through a temporary name); with `etag`, only that version of it. */
  async getFile(key: string, file: string, etag?: string): Promise<void> {
    const out = await this.call('get', key, () =>
      this.s3.send(
        new GetObjectCommand({ Bucket: this.location.bucket, Key: this.full(key), ...(etag ? { IfMatch: etag } : {}) }),
      ),
    );
    this.traffic.bytesDown += out.ContentLength ?? 0;
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.download-${process.pid}`;
    await pipeline(out.Body as Readable, createWriteStream(tmp));
    await fs.rename(tmp, file);
  }

  /** Every object under `prefix`, with keys relative to it. */
  async list(prefix: string): Promise<ObjectInfo[]> {
    const objects: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('list', prefix, () =>
        this.s3.send(
          new ListObjectsV2Command({
            Bucket: this.location.bucket,
            Prefix: this.full(prefix),
            ContinuationToken: token,
          }),
        ),
      );
      for (const o of page.Contents ?? [])
        objects.push({ key: o.Key!.slice(this.full(prefix).length), size: o.Size ?? 0, etag: o.ETag ?? '' });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  async delete(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      await this.call('delete', batch[0]!, () =>
        this.s3.send(
          new DeleteObjectsCommand({
            Bucket: this.location.bucket,
            Delete: { Objects: batch.map((k) => ({ Key: this.full(k) })), Quiet: true },
          }),
        ),
      );
    }
  }

  close(): void {
    this.s3.destroy();
  }

  private full(key: string): string {
    return `${this.location.prefix}${key}`;
  }

  private async call<T>(what: string, key: string, send: () => Promise<T>): Promise<T> {
    this.traffic.requests++;
    try {
      return await send();
    } catch (error) {
      throw this.classify(error, `${what} ${this.describeKey(key)}`);
    }
  }

  private describeKey(key: string): string {
    return `s3://${this.location.bucket}/${this.full(key)}`;
  }

  private classify(error: unknown, doing: string): ObjectStoreError {
    if (!(error instanceof S3ServiceException)) {
      const reason = (error as Error).message || (error as Error).name;
      return new ObjectStoreError('unreachable', `object store unreachable (${doing}): ${reason}`);
    }
    const status = error.$metadata.httpStatusCode ?? 0;
    const code = error.name;
    if (code === 'NoSuchBucket' || (status === 404 && doing.startsWith('check the bucket')))
      return new ObjectStoreError('no-such-bucket', `bucket ${this.location.bucket} does not exist (${doing})`);
    if (code === 'NoSuchKey' || code === 'NotFound' || status === 404)
      return new ObjectStoreError('not-found', `no object (${doing})`);
    if (status === 412 || code === 'PreconditionFailed')
      return new ObjectStoreError('precondition-failed', `object changed (${doing})`);
    if (status === 401 || status === 403 || ACCESS_CODES.has(code))
      return new ObjectStoreError(
        'access-denied',
        `object store refused the credentials (${code}, HTTP ${status}) while trying to ${doing}: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the profile`,
      );
    return new ObjectStoreError(
      'unreachable',
      `object store failed (${code}, HTTP ${status}) while trying to ${doing}`,
    );
  }
}

export interface PutCondition {
  /** '*': only if no object exists under the key. */
  IfNoneMatch?: string;
  /** Only if the object's current ETag is this one. */
  IfMatch?: string;
}

const ACCESS_CODES = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
]);
