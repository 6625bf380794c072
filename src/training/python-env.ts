import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A provisioned Python environment: its folder, the Python it runs, and what it was made from. */
export interface PythonEnv {
  dir: string;
  bin: string;
  python: string;
  requirementsSha256: string;
}

/** Why an environment cannot be made; the message says what to install or fix. */
export class PythonEnvError extends Error {}

export function defaultPythonEnvsDir(): string {
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'temporal-ml-pipelines', 'python-envs');
}

/**
 * The virtual environment of a requirements file, made on first use from PyPI and cached under
 * `envsDir` by the file's sha256 and the Python version, as the Temporal CLI is cached: a second
 * call, on any worker of the machine, finds it. Made in a temporary folder and renamed into place, so
 * a half-installed environment is never used; two workers racing both build and one rename wins.
 */
export async function ensurePythonEnv(
  requirementsFile: string,
  options: { python: string; envsDir: string; onProgress?: (message: string) => void },
): Promise<PythonEnv> {
  const requirements = await fs.readFile(requirementsFile).catch((error: NodeJS.ErrnoException) => {
    throw new PythonEnvError(
      `cannot read the trainer's requirements ${requirementsFile}: ${error.code ?? error.message}`,
    );
  });
  const python = await pythonVersion(options.python);
  const requirementsSha256 = crypto.createHash('sha256').update(requirements).digest('hex');
  const dir = path.join(options.envsDir, `${requirementsSha256.slice(0, 16)}-py${python}`);
  const env = { dir, bin: path.join(dir, 'bin'), python, requirementsSha256 };
  if (await isComplete(dir)) return env;

  const building = `${dir}.tmp.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
  await fs.mkdir(options.envsDir, { recursive: true });
  try {
    options.onProgress?.(`making a Python ${python} environment for ${requirementsFile} in ${dir}`);
    await step(`${options.python} -m venv`, options.python, ['-m', 'venv', building]);
    await step(`pip install -r ${requirementsFile}`, path.join(building, 'bin', 'python'), [
      '-m',
      'pip',
      'install',
      '--disable-pip-version-check',
      '--no-input',
      '--quiet',
      '-r',
      requirementsFile,
    ]);
    await fs.writeFile(path.join(building, COMPLETE), requirementsSha256);
    await fs.rename(building, dir).catch(async (error: NodeJS.ErrnoException) => {
      if (!(await isComplete(dir))) throw error;
    });
  } finally {
    await fs.rm(building, { recursive: true, force: true });
  }
  return env;
}

/** Written last into an environment: its absence means the install did not finish. */
const COMPLETE = '.mlpipe-complete';

async function isComplete(dir: string): Promise<boolean> {
  return fs.access(path.join(dir, COMPLETE)).then(
    () => true,
    () => false,
  );
}

/** The version of `python` (3.9+ with venv), or a PythonEnvError saying what to install. */
export async function pythonVersion(python: string): Promise<string> {
  try {
    const { stdout } = await run(python, ['-c', 'import sys, venv; print("%d.%d.%d" % sys.version_info[:3])']);
    const version = stdout.trim();
    const [major, minor] = version.split('.').map(Number);
    if (major !== 3 || minor! < 9)
      throw new PythonEnvError(`${python} is Python ${version}; trainers need 3.9 or newer`);
    return version;
  } catch (error) {
    if (error instanceof PythonEnvError) throw error;
    throw new PythonEnvError(
      `no usable Python (${python}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): a spec with a trainer needs Python 3.9+ with venv (Debian: apt-get install python3 python3-venv; or set MLPIPE_PYTHON); the built-in model needs none`,
    );
  }
}

async function step(what: string, file: string, args: string[]): Promise<void> {
  try {
    await run(file, args, { maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '')
      .trim()
      .split('\n')
      .slice(-10)
      .join('\n');
    throw new PythonEnvError(`${what} failed: ${stderr || (error as Error).message}`);
  }
}
