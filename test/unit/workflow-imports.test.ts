import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { lintWorkflowImports } from '../../scripts/lint-workflow-imports';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

test('the workflow bundle reaches only deterministic code: the shared API, pure helpers, the SDK and zod/mini', () => {
  const { files, problems } = lintWorkflowImports(path.join(REPO_ROOT, 'workflows', 'index.ts'), REPO_ROOT);
  assert.deepEqual(problems, []);
  assert.ok(
    files.includes(path.join('src', 'api', 'errors.ts')),
    `the walk follows imports into src/api: ${files.join(', ')}`,
  );
  assert.ok(!files.some((f) => f.startsWith(`activities${path.sep}`)), 'activities/ are reached by type only');
});

test('a built-in, a package off the allow-list, a value import of activities and a require() are each named with their file', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lint-workflows-'));
  try {
    const write = (file: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), text);
    };
    write('activities/index.ts', 'export const createActivities = () => ({});\n');
    write(
      'workflows/index.ts',
      [
        "import { proxyActivities } from '@temporalio/workflow';",
        "import type { Logger } from 'pino';",
        "import { type Deps } from './deps-type';",
        "import { createActivities } from '../activities';",
        "export { helper } from './helper';",
        'export const x = [proxyActivities, createActivities];',
        'export type L = Logger | Deps;',
      ].join('\n'),
    );
    write('workflows/deps-type.ts', "import fs from 'node:fs';\nexport type Deps = typeof fs;\n");
    write(
      'workflows/helper.ts',
      "import { randomUUID } from 'crypto';\nimport pino from 'pino';\nexport const helper = () => [randomUUID(), pino, require('fs/promises')];\n",
    );
    const { problems } = lintWorkflowImports(path.join(root, 'workflows', 'index.ts'), root);
    const found = problems.map((p) => `${p.file} ${p.specifier}`).sort();
    // './deps-type' is imported for a type only (`import { type Deps }` is erased), so its node:fs is not a problem.
    assert.deepEqual(found, [
      `${path.join('workflows', 'helper.ts')} crypto`,
      `${path.join('workflows', 'helper.ts')} fs/promises`,
      `${path.join('workflows', 'helper.ts')} pino`,
      `${path.join('workflows', 'index.ts')} ../activities`,
    ]);
    assert.match(problems.find((p) => p.specifier === 'crypto')!.why, /Node built-in/);
    assert.match(problems.find((p) => p.specifier === 'pino')!.why, /allow-list/);
    assert.match(problems.find((p) => p.specifier === '../activities')!.why, /import type/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
