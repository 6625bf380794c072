import type { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config';
import { createLogger } from '../logger';

/** What every command receives: validated config, a logger, and how to print for people or scripts. */
export interface CommandContext {
  config: Config;
  json: boolean;
  print(human: string, data: unknown): void;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Wraps a command action: parses the configuration, prints readable text by default and JSON with
 * --json, and turns any failure into one line on stderr and a non-zero exit code
 * (2 for bad arguments or configuration, 1 for everything else).
 */
export function action<A extends unknown[]>(command: Command, run: (ctx: CommandContext, ...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    const json = Boolean(command.optsWithGlobals().json);
    try {
      const config = loadConfig();
      await run(
        { config, json, print: (human, data) => console.log(json ? JSON.stringify(data, null, 2) : human) },
        ...args,
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      console.error(`mlpipe ${commandPath(command)}: ${message.split('\n')[0]}`);
      process.exitCode = error instanceof UsageError || error instanceof ConfigError ? 2 : 1;
    }
  };
}

/** "models show", not "show": the words the user typed, so a subcommand's error names its command. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

export function commandLogger(config: Config) {
  return createLogger(config.LOG_LEVEL);
}

/** A fixed-width text table for terminal output. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
