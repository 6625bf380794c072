import { execFile } from 'node:child_process';
import { REPO_ROOT } from './temporal';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `mlpipe <args>` as a user would, in its own process, and returns its exit code and output. */
export function mlpipe(
  args: string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 120_000,
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: REPO_ROOT, env: { ...process.env, LOG_LEVEL: 'warn', ...env } as NodeJS.ProcessEnv, timeout: timeoutMs },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
