import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
/** The code that decides what a model learns and how it is scored. */
const MODEL_CODE_DIRS = ['src/ml', 'src/training'];

let cached: string | undefined;

/**
 * `<package version>+<sha256 prefix of the model code>`: two models with the same code version were
 * trained and scored by byte-identical code, whatever the deployment (no git needed at run time).
 */
export function codeVersion(): string {
  if (cached) return cached;
  const hash = crypto.createHash('sha256');
  for (const dir of MODEL_CODE_DIRS) {
    for (const name of fs
      .readdirSync(path.join(ROOT, dir))
      .filter((n) => n.endsWith('.ts'))
      .sort()) {
      hash.update(`${dir}/${name}\0`).update(fs.readFileSync(path.join(ROOT, dir, name)));
    }
  }
  const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  cached = `${version}+${hash.digest('hex').slice(0, 12)}`;
  return cached;
}
