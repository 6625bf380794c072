/** `s3://bucket/optional/prefix`, with a bucket name S3 accepts. */
export const S3_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/;

/** The bucket and key prefix ('' or ending in '/') of an s3:// URL. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const match = S3_URL.exec(url);
  if (!match) throw new Error(`expected s3://bucket/prefix with a valid bucket name, got ${url}`);
  const prefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  return { bucket: match[1]!, prefix: prefix ? `${prefix}/` : '' };
}
