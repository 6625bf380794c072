/**
 * The validator for docker-compose.yml (test/integration/docker-compose.test.ts, through
 * test/helpers/compose.ts): docker-compose where it is on PATH (Debian's v1 package: `docker-compose
 * config` validates and resolves the file without a Docker engine), else check-jsonschema from PyPI,
 * which validates the file against the Compose Specification's JSON schema it vendors (builtin schema
 * vendor.compose-spec), installed with pip --target into <cache>/check-jsonschema-<version>.
 *
 * MLPIPE_TEST_COMPOSE_VALIDATOR is the validator's executable; for check-jsonschema, the script pip
 * wrote (its #! names the Python that installed it), which imports from MLPIPE_TEST_COMPOSE_PYTHONPATH.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { errorLine, onPath, shown, type Provisioner } from './index';
import { installStaged } from './staged';

const run = promisify(execFile);

const CHECK_JSONSCHEMA_VERSION = '0.39.0';
const PIP_SPEC = `check-jsonschema==${CHECK_JSONSCHEMA_VERSION}`;

function checkJsonschemaEnv(dir: string): Record<string, string> {
  return {
    MLPIPE_TEST_COMPOSE_VALIDATOR: path.join(dir, 'bin', 'check-jsonschema'),
    MLPIPE_TEST_COMPOSE_PYTHONPATH: dir,
  };
}

/**
 * Validates a minimal compose file read from stdin: proves the installation works with its Python
 * (its compiled dependencies included) and carries the compose-spec schema.
 */
async function checkJsonschemaRuns(dir: string): Promise<void> {
  const env = checkJsonschemaEnv(dir);
  const pending = run(
    env.MLPIPE_TEST_COMPOSE_VALIDATOR!,
    ['--builtin-schema', 'vendor.compose-spec', '--default-filetype', 'yaml', '-'],
    {
      env: { ...process.env, PYTHONPATH: env.MLPIPE_TEST_COMPOSE_PYTHONPATH },
      timeout: 60_000,
    },
  );
  pending.child.stdin!.end('services: {}\n');
  await pending;
}

/** pip-installs check-jsonschema into `target` and checks that it works there. */
async function pipInstall(target: string): Promise<void> {
  // Wheels only: check-jsonschema's compiled dependencies (rpds-py, regress) would need Rust to build.
  await run(
    'python3',
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-input',
      '--no-warn-script-location',
      '--only-binary=:all:',
      '--target',
      target,
      PIP_SPEC,
    ],
    {
      env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' },
      timeout: 600_000,
    },
  );
  await checkJsonschemaRuns(target);
}

export const provisionComposeValidator: Provisioner = async (cacheDir, log) => {
  const problems: string[] = [];

  const dockerCompose = onPath('docker-compose');
  if (dockerCompose) {
    try {
      const { stdout } = await run(dockerCompose, ['version', '--short'], { timeout: 60_000 });
      return {
        env: { MLPIPE_TEST_COMPOSE_VALIDATOR: dockerCompose },
        line: `compose check: docker-compose ${stdout.trim()} (${dockerCompose})`,
      };
    } catch (error) {
      problems.push(`${dockerCompose} does not run (${errorLine(error)})`);
      log(`${problems.at(-1)}; trying ${PIP_SPEC}`);
    }
  } else {
    problems.push('no docker-compose on PATH');
  }

  const dir = path.join(cacheDir, `check-jsonschema-${CHECK_JSONSCHEMA_VERSION}`);
  const what = `check-jsonschema ${CHECK_JSONSCHEMA_VERSION} from PyPI (Compose Specification schema)`;
  if (fs.existsSync(dir)) {
    try {
      await checkJsonschemaRuns(dir);
      return { env: checkJsonschemaEnv(dir), line: `compose check: ${what}, cached in ${shown(dir)}` };
    } catch (error) {
      // E.g. the Python that installed it is gone.
      log(`the copy in ${shown(dir)} does not run (${errorLine(error)}); installing it afresh`);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  if (!onPath('python3')) {
    problems.push(`no python3 on PATH to install ${PIP_SPEC} with`);
  } else {
    try {
      log(`installing ${PIP_SPEC} from PyPI into ${shown(dir)}`);
      await installStaged(dir, pipInstall);
      return { env: checkJsonschemaEnv(dir), line: `compose check: ${what}, installed in ${shown(dir)}` };
    } catch (error) {
      problems.push(`python3 -m pip install ${PIP_SPEC} failed (${errorLine(error)})`);
    }
  }
  throw new Error(
    `no validator: ${problems.join('; ')}; install docker-compose (apt-get install docker-compose) or python3 with pip`,
  );
};
