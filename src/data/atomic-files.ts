import fs from 'node:fs/promises';
import path from 'node:path';

/** Files and directories replaced at once: a reader (or a crash) never sees half of one. */

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

/** Renames `from` over `to` (which may exist): a reader of `to` sees the old or the new directory. */
export async function replaceDir(from: string, to: string): Promise<string> {
  await fs.mkdir(path.dirname(to), { recursive: true });
  const old = `${to}.old-${process.pid}-${Date.now()}`;
  const hadOld = await exists(to);
  if (hadOld) await fs.rename(to, old);
  try {
    await fs.rename(from, to);
  } catch (error) {
    if (hadOld) await fs.rename(old, to);
    throw error;
  }
  if (hadOld) await fs.rm(old, { recursive: true, force: true });
  return to;
}
