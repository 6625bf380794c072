import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import * as prettier from 'prettier';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const SOURCE_DIRS = ['src', 'workflows', 'activities', 'test', 'bench', 'scripts'];

function typescriptFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return typescriptFiles(file);
    return entry.name.endsWith('.ts') ? [file] : [];
  });
}

async function isFormatted(file: string, text: string): Promise<boolean> {
  const options = await prettier.resolveConfig(file);
  return prettier.check(text, { ...options, filepath: file });
}

test('every TypeScript file is as `npm run format` writes it', async () => {
  const files = SOURCE_DIRS.flatMap((dir) => typescriptFiles(path.join(REPO_ROOT, dir)));
  assert.ok(files.length > 100, `found ${files.length} files`);
  const unformatted: string[] = [];
  for (const file of files) {
    if (!(await isFormatted(file, fs.readFileSync(file, 'utf8')))) unformatted.push(path.relative(REPO_ROOT, file));
  }
  assert.deepEqual(unformatted, [], 'run `npm run format`');
});

test('the check refuses a line past the print width and double quotes', async () => {
  const file = path.join(REPO_ROOT, 'src', 'example.ts');
  assert.equal(await isFormatted(file, "export const x = 'a';\n"), true);
  assert.equal(await isFormatted(file, 'export const x = "a";\n'), false);
  const long = `export const f = (${Array.from({ length: 20 }, (_, i) => `argument${i}: number`).join(', ')}) => 0;\n`;
  assert.equal(await isFormatted(file, long), false);
});
