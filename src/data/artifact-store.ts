import fs from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * Files under the data directory at paths fixed by (kind, name, version, partition): the same inputs
 * always land in the same place, so a retry overwrites instead of duplicating.
 * Everything is written under _staging first and published by rename.
 */
export interface ArtifactKey {
  kind: 'datasets' | 'dead-letters' | 'reports' | 'features' | 'models' | 'monitoring' | 'predictions';
  name: string;
  version: string;
  partition: string;
}

const SAFE_SEGMENT = /^[A-Za-z0-9._-]+$/;

function segment(value: string, what: string): string {
  if (!SAFE_SEGMENT.test(value) || value === '.' || value === '..') {
    throw new Error(`${what} "${value}" may contain only letters, digits, '.', '_' and '-'`);
  }
  return value;
}

export class ArtifactStore {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'artifacts');
  }

  relative(key: ArtifactKey): string {
    // No `key=value` segments: DuckDB would read them as hive partitions and add columns.
    return path.join(
      key.kind,
      segment(key.name, 'name'),
      segment(key.version, 'version'),
      segment(key.partition, 'partition'),
    );
  }

  /** Where a published artifact lives. */
  finalDir(key: ArtifactKey): string {
    return path.join(this.root, this.relative(key));
  }

  /** Where an artifact is built; stable across retries so a resumed activity finds its chunks. */
  stagingDir(key: ArtifactKey): string {
    return path.join(this.root, '_staging', this.relative(key));
  }

  /** Scratch space of a build (checkpoint manifests, landed sources); never published. */
  workDir(key: ArtifactKey): string {
    return path.join(this.root, '_work', this.relative(key));
  }

  uri(key: ArtifactKey): string {
    return `artifact:${this.relative(key).split(path.sep).join('/')}`;
  }

  /** The directory an `artifact:` URI names; refuses URIs that would leave the store. */
  resolve(uri: string): string {
    if (!uri.startsWith('artifact:')) throw new Error(`not an artifact URI: ${uri}`);
    const rel = uri.slice('artifact:'.length);
    const resolved = path.resolve(this.root, rel);
    if (!isInside(this.root, resolved)) throw new Error(`artifact URI escapes the store: ${uri}`);
    return resolved;
  }

  /** Parquet files of a directory, in name order (chunk order). */
  async parquetFiles(dir: string): Promise<string[]> {
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    return names
      .filter((n) => n.endsWith('.parquet'))
      .sort()
      .map((n) => path.join(dir, n));
  }

  /** Replaces the published directory with the staged one: readers see the old or the new, never half. */
  async publish(key: ArtifactKey): Promise<string> {
    const staging = this.stagingDir(key);
    const final = this.finalDir(key);
    await fs.mkdir(path.dirname(final), { recursive: true });
    if (!(await exists(staging))) throw new Error(`nothing staged at ${staging} to publish`);
    const old = `${final}.old-${process.pid}-${Date.now()}`;
    const hadOld = await exists(final);
    if (hadOld) await fs.rename(final, old);
    try {
      await fs.rename(staging, final);
    } catch (error) {
      if (hadOld) await fs.rename(old, final);
      throw error;
    }
    if (hadOld) await fs.rm(old, { recursive: true, force: true });
    return final;
  }

  /**
   * `publish` for a step that may be retried: a retry after a successful rename finds nothing staged
   * and the published copy already the one, so it keeps it (an empty staging never replaces it).
   */
  async publishOnce(key: ArtifactKey): Promise<void> {
    await fs.mkdir(this.stagingDir(key), { recursive: true });
    const staged = await fs.readdir(this.stagingDir(key));
    const published = await fs.readdir(this.finalDir(key)).catch(() => undefined);
    if (staged.length > 0 || published === undefined) await this.publish(key);
    else await fs.rm(this.stagingDir(key), { recursive: true, force: true });
  }
}

/** True when `target` is `root` or below it (a name like `..foo` inside root is fine). */
export function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

/** Writes a file through a temporary name and a rename, so a crash never leaves half a file. */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, content);
  await fs.rename(tmp, file);
}

export async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A content hash over several files, in the given order. */
export async function sha256Files(files: string[]): Promise<string> {
  const hash = crypto.createHash('sha256');
  for (const file of files) hash.update(`${path.basename(file)}:${await sha256File(file)}\n`);
  return hash.digest('hex');
}
