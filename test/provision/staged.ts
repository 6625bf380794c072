/**
 * Fills a cache directory all at once: `fill` writes into a staging directory beside it, which is then
 * renamed into place, so no run sees a half-written install. Concurrent runs on a fresh cache (two
 * `npm test`s) each fill their own staging directory; the first rename wins and the others use its result.
 */
import fs from 'node:fs';

export async function installStaged(dir: string, fill: (staging: string) => Promise<void>): Promise<void> {
  const staging = `${dir}.tmp-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  try {
    await fill(staging);
    fs.renameSync(staging, dir);
  } catch (error) {
    // A rename onto another run's (non-empty) directory fails so: that one is as good.
    const { code } = error as NodeJS.ErrnoException;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
