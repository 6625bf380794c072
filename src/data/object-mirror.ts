import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { replaceDir, writeFileAtomic } from './atomic-files';
import { ObjectStoreError, type ObjectStore } from './object-store';

/**
 * The artifact store's object-store half: keeps this host's scratch directory and the object store in
 * step. Layout under the store's prefix (paths relative to the scratch root, '/'-separated):
 *   <artifact>/MANIFEST.json         the pointer: which version is published, its files and ETags
 *   <artifact>/v-<id>/<file>         a version's files, never rewritten
 *   _staging/<artifact>/<file>       a build in progress, as its last checkpoint left it
 *   _work/<artifact>/<file>          a build's scratch (checkpoint manifests, landed sources)
 */
const ManifestSchema = z.object({
  version: z.string().min(1),
  publishedAt: z.string(),
  files: z.array(z.object({ name: z.string().min(1), size: z.number().int().nonnegative(), etag: z.string() })),
});
type Manifest = z.infer<typeof ManifestSchema>;

/** A published artifact that cannot be read as its manifest describes: retrying will not help. */
export class ArtifactCorrupt extends Error {
  override name = 'ArtifactCorrupt';
}

/** Nothing published under an artifact URI. */
export class ArtifactNotFound extends Error {
  override name = 'ArtifactNotFound';
}

/** Temporary files of an atomic write (`<file>.tmp`, `.tmp-<pid>`, a download): never mirrored. */
const TEMPORARY = /\.(tmp|download)([-.][A-Za-z0-9-]+)*$/;
const MANIFEST = 'MANIFEST.json';
/** How often a manifest put that lost a race to another publisher is tried again. */
const PUBLISH_ATTEMPTS = 5;

interface Synced {
  size: number;
  mtimeMs: number;
  etag: string;
}

export class ObjectMirror {
  /** Files of this host known equal to their object (by size, mtime and the object's ETag). */
  private readonly synced = new Map<string, Synced>();
  /** Opens in flight, by artifact: two activities reading one artifact download it once. */
  private readonly opening = new Map<string, Promise<string>>();

  constructor(
    readonly remote: ObjectStore,
    private readonly root: string,
  ) {}

  /** Makes the local directory `rel` equal to the object store's copy (downloads, removes extras). */
  async pull(rel: string): Promise<void> {
    const prefix = `${posix(rel)}/`;
    const objects = await this.remote.list(prefix);
    const dir = path.join(this.root, rel);
    const wanted = new Set<string>();
    for (const object of objects) {
      wanted.add(object.key);
      const file = path.join(dir, object.key);
      if (await this.isSynced(file, object.etag)) continue;
      await this.remote.getFile(prefix + object.key, file, object.etag);
      await this.record(file, object.etag);
    }
    // An area the object store does not have is absent here too (a finished step discarded it).
    if (objects.length === 0) await fs.rm(dir, { recursive: true, force: true });
    for (const name of await listFiles(dir)) if (!wanted.has(name)) await fs.rm(path.join(dir, name), { force: true });
  }

  /** Makes the object store's copy of `rel` equal to the local directory (uploads, removes extras). */
  async push(rel: string): Promise<void> {
    const prefix = `${posix(rel)}/`;
    const remote = new Map((await this.remote.list(prefix)).map((o) => [o.key, o.etag]));
    const dir = path.join(this.root, rel);
    const local = await listFiles(dir);
    for (const name of local) {
      const file = path.join(dir, name);
      const etag = remote.get(name);
      if (etag !== undefined && (await this.isSynced(file, etag))) continue;
      const before = await fs.stat(file);
      const uploaded = await this.remote.putFile(prefix + name, file);
      this.synced.set(file, { size: before.size, mtimeMs: before.mtimeMs, etag: uploaded });
    }
    const kept = new Set(local);
    const stale = [...remote.keys()].filter((k) => !kept.has(k));
    if (stale.length) await this.remote.delete(stale.map((k) => prefix + k));
  }

  async isPublished(rel: string): Promise<boolean> {
    return (await this.remote.getText(this.manifestKey(rel))) !== undefined;
  }

  /**
   * Uploads the staged files as a new version, then points the manifest at it with a conditional put
   * (it replaces exactly the manifest read, so two publishers never interleave), then removes the old
   * version's objects and the staging area. The staged directory becomes the local cached copy.
   */
  async publish(rel: string, stagingRel: string): Promise<string> {
    const staging = path.join(this.root, stagingRel);
    const version = `${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
    const files: Manifest['files'] = [];
    for (const name of await listFiles(staging)) {
      const file = path.join(staging, name);
      const etag = await this.remote.putFile(`${posix(rel)}/v-${version}/${name}`, file);
      files.push({ name, size: (await fs.stat(file)).size, etag });
    }
    const manifest: Manifest = { version, publishedAt: new Date().toISOString(), files };
    await this.putManifest(rel, manifest);
    const old = (await this.remote.list(`${posix(rel)}/`))
      .map((o) => o.key)
      .filter((k) => k.startsWith('v-') && !k.startsWith(`v-${version}/`));
    if (old.length) await this.remote.delete(old.map((k) => `${posix(rel)}/${k}`));
    await this.remote.delete(
      (await this.remote.list(`${posix(stagingRel)}/`)).map((o) => `${posix(stagingRel)}/${o.key}`),
    );
    for (const name of files.map((f) => f.name)) this.synced.delete(path.join(staging, name));
    const dir = path.join(this.root, rel);
    await replaceDir(staging, dir);
    await this.writeLocalManifest(rel, manifest);
    return dir;
  }

  /** The local copy of the version the manifest names now, downloaded unless already here. */
  open(rel: string): Promise<string> {
    const pending = this.opening.get(rel);
    if (pending) return pending;
    const opened = this.openOnce(rel).finally(() => this.opening.delete(rel));
    this.opening.set(rel, opened);
    return opened;
  }

  private async openOnce(rel: string): Promise<string> {
    let manifest = await this.readManifest(rel);
    const dir = path.join(this.root, rel);
    if (await this.cached(rel, manifest)) return dir;
    try {
      return await this.download(rel, manifest);
    } catch (error) {
      if (!(error instanceof ArtifactCorrupt)) throw error;
      // A publisher may have moved the manifest on (and removed the old version) while we read it.
      const now = await this.readManifest(rel);
      if (now.version === manifest.version) throw error;
      manifest = now;
      return this.download(rel, manifest);
    }
  }

  private async download(rel: string, manifest: Manifest): Promise<string> {
    const tmp = path.join(
      this.root,
      '_downloads',
      `${rel.split(path.sep).join('__')}-${manifest.version}-${process.pid}`,
    );
    await fs.rm(tmp, { recursive: true, force: true });
    const what = `artifact:${posix(rel)} (version ${manifest.version})`;
    for (const f of manifest.files) {
      const key = `${posix(rel)}/v-${manifest.version}/${f.name}`;
      try {
        await this.remote.getFile(key, path.join(tmp, f.name), f.etag);
      } catch (error) {
        if (error instanceof ObjectStoreError && error.kind === 'not-found')
          throw new ArtifactCorrupt(`the manifest of ${what} names ${f.name}, which is missing from the object store`);
        if (error instanceof ObjectStoreError && error.kind === 'precondition-failed')
          throw new ArtifactCorrupt(
            `${f.name} of ${what} was changed after it was published (its ETag is no longer ${f.etag})`,
          );
        throw error;
      }
      const size = (await fs.stat(path.join(tmp, f.name))).size;
      if (size !== f.size)
        throw new ArtifactCorrupt(`${f.name} of ${what} has ${size} bytes; its manifest says ${f.size}`);
    }
    const dir = path.join(this.root, rel);
    await replaceDir(tmp, dir);
    await this.writeLocalManifest(rel, manifest);
    return dir;
  }

  private async readManifest(rel: string): Promise<Manifest> {
    const found = await this.remote.getText(this.manifestKey(rel));
    if (!found) throw new ArtifactNotFound(`nothing is published at artifact:${posix(rel)}`);
    const parsed = ManifestSchema.safeParse(parseJson(found.text));
    if (!parsed.success) throw new ArtifactCorrupt(`the manifest of artifact:${posix(rel)} is not a valid manifest`);
    return parsed.data;
  }

  private async putManifest(rel: string, manifest: Manifest): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.remote.getText(this.manifestKey(rel));
      try {
        await this.remote.putText(
          this.manifestKey(rel),
          JSON.stringify(manifest),
          current ? { IfMatch: current.etag } : { IfNoneMatch: '*' },
        );
        return;
      } catch (error) {
        const lostRace = error instanceof ObjectStoreError && error.kind === 'precondition-failed';
        if (!lostRace || attempt >= PUBLISH_ATTEMPTS) throw error;
      }
    }
  }

  /** Whether this host's copy of `rel` is the version `manifest` names, whole. */
  private async cached(rel: string, manifest: Manifest): Promise<boolean> {
    const local = await fs.readFile(this.localManifestFile(rel), 'utf8').catch(() => undefined);
    if (!local || ManifestSchema.safeParse(parseJson(local)).data?.version !== manifest.version) return false;
    for (const f of manifest.files) {
      const stat = await fs.stat(path.join(this.root, rel, f.name)).catch(() => undefined);
      if (stat?.size !== f.size) return false;
    }
    return true;
  }

  private writeLocalManifest(rel: string, manifest: Manifest): Promise<void> {
    return writeFileAtomic(this.localManifestFile(rel), JSON.stringify(manifest));
  }

  private localManifestFile(rel: string): string {
    return path.join(this.root, '_manifests', rel, MANIFEST);
  }

  private manifestKey(rel: string): string {
    return `${posix(rel)}/${MANIFEST}`;
  }

  private async isSynced(file: string, etag: string): Promise<boolean> {
    const known = this.synced.get(file);
    if (!known || known.etag !== etag) return false;
    const stat = await fs.stat(file).catch(() => undefined);
    return stat?.size === known.size && stat.mtimeMs === known.mtimeMs;
  }

  private async record(file: string, etag: string): Promise<void> {
    const stat = await fs.stat(file);
    this.synced.set(file, { size: stat.size, mtimeMs: stat.mtimeMs, etag });
  }
}

/** Files under `dir` as '/'-separated relative names, temporary files left out; [] when it is absent. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && !TEMPORARY.test(e.name))
    .map((e) => posix(path.relative(dir, path.join(e.parentPath, e.name))))
    .sort();
}

function posix(rel: string): string {
  return rel.split(path.sep).join('/');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
