import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { parseProgressLine } from '../../src/training/trainer-contract';
import { ensurePythonEnv, PythonEnvError } from '../../src/training/python-env';

describe('trainer progress lines', () => {
  it('takes an iteration with its metrics and checkpoint flag, defaulting both', () => {
    assert.deepEqual(parseProgressLine('{"iteration": 40, "metrics": {"valid_auc": 0.63}, "checkpoint": true}'), {
      ok: true,
      progress: { iteration: 40, metrics: { valid_auc: 0.63 }, checkpoint: true },
    });
    assert.deepEqual(parseProgressLine('{"iteration": 1}'), {
      ok: true,
      progress: { iteration: 1, metrics: {}, checkpoint: false },
    });
  });

  it('says why a line breaks the contract', () => {
    const why = (line: string) => {
      const parsed = parseProgressLine(line);
      assert.equal(parsed.ok, false, line);
      return parsed.ok ? '' : parsed.why;
    };
    assert.match(why('epoch 2: loss 0.51'), /not JSON \(stdout is for progress lines; log to stderr\)/);
    assert.match(why('{"iteration": -1}'), /^iteration: /);
    assert.match(why('{"iteration": 3, "metrics": {"auc": "high"}}'), /^metrics\.auc: /);
    assert.match(why('{"iteration": 3, "epoch": 3}'), /epoch/);
  });
});

describe('the trainer Python environment', () => {
  it('without a usable Python says what to install, and that the built-in model needs none', async () => {
    const requirements = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'req-')), 'requirements.txt');
    fs.writeFileSync(requirements, 'lightgbm==4.7.0\n');
    await assert.rejects(
      ensurePythonEnv(requirements, { python: '/nonexistent/python3', envsDir: os.tmpdir() }),
      (error: Error) =>
        error instanceof PythonEnvError &&
        /no usable Python \(\/nonexistent\/python3: ENOENT\).*apt-get install python3 python3-venv.*the built-in model needs none/.test(
          error.message,
        ),
    );
  });

  it('names a requirements file that is not there', async () => {
    await assert.rejects(
      ensurePythonEnv('/nonexistent/requirements.txt', { python: 'python3', envsDir: os.tmpdir() }),
      /cannot read the trainer's requirements \/nonexistent\/requirements\.txt: ENOENT/,
    );
  });
});
