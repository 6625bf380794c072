/**
 * Checks a compose file with the validator test/provision/compose.ts chose and returns it as the
 * services see it:
 * - docker-compose: `docker-compose config` validates the file, checks its references and prints it
 *   resolved (variables interpolated);
 * - check-jsonschema: validates the file against the Compose Specification's JSON schema; what a schema
 *   cannot express is done here: interpolating variables, checking that depends_on names services and
 *   that named volumes are declared.
 * Both read the environment without the variables docker-compose.yml interpolates, so results are
 * deterministic.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export interface ComposeService {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | null>;
  depends_on?: Record<string, { condition?: string }> | string[];
  volumes?: Array<string | { type?: string; target?: string; source?: string }>;
  ports?: Array<string | { published?: number | string; target?: number | string }>;
  deploy?: { replicas?: number };
}
export interface ComposeConfig {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export type Checked = { ok: true; config: ComposeConfig } | { ok: false; message: string };

/** The executable test/provision/compose.ts chose, named for assertion messages. */
export function composeValidator(): string {
  const validator = process.env.MLPIPE_TEST_COMPOSE_VALIDATOR;
  if (!validator)
    throw new Error('MLPIPE_TEST_COMPOSE_VALIDATOR is not set: run the tests with npm test, which provisions it');
  return validator;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of ['POSTGRES_USER', 'POSTGRES_PASSWORD', 'LOG_LEVEL', 'COMPOSE_FILE', 'COMPOSE_PROJECT_NAME'])
    delete env[key];
  return env;
}

function runValidator(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): { ok: boolean; stdout: string; message: string } {
  const result = spawnSync(composeValidator(), args, { cwd, env, encoding: 'utf8', timeout: 60_000 });
  if (result.error) throw result.error;
  return { ok: result.status === 0, stdout: result.stdout, message: `${result.stdout}${result.stderr}`.trim() };
}

export function checkCompose(file: string): Checked {
  const cwd = path.dirname(file);
  if (path.basename(composeValidator()) !== 'check-jsonschema') {
    const { ok, stdout, message } = runValidator(['-f', file, 'config'], cwd, cleanEnv());
    return ok ? { ok, config: parse(stdout) as ComposeConfig } : { ok, message };
  }
  const env = { ...cleanEnv(), PYTHONPATH: process.env.MLPIPE_TEST_COMPOSE_PYTHONPATH };
  const { ok, message } = runValidator(['--builtin-schema', 'vendor.compose-spec', '--color', 'never', file], cwd, env);
  if (!ok) return { ok, message };
  try {
    const config = interpolated(parse(fs.readFileSync(file, 'utf8')), cleanEnv()) as ComposeConfig;
    const problems = referenceProblems(config);
    return problems.length ? { ok: false, message: problems.join('\n') } : { ok: true, config };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}

// $$, ${NAME}, ${NAME<op>arg} with op one of :- - :? ? :+ + (arg without nested variables), $NAME.
const VARIABLE = /\$(?:(\$)|\{([A-Za-z_]\w*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_]\w*))/g;

/** Compose's interpolation of every string value (keys are not interpolated). */
function interpolated(value: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') {
    return value.replace(VARIABLE, (_match, dollar?: string, braced?: string, op?: string, arg = '', bare?: string) => {
      if (dollar) return '$';
      const name = (braced ?? bare)!;
      const set = env[name] !== undefined;
      const nonEmpty = !!env[name];
      const present = op?.startsWith(':') ? nonEmpty : set;
      switch (op?.replace(':', '')) {
        case '-':
          return present ? env[name]! : arg;
        case '?':
          if (!present) throw new Error(`required variable ${name} is missing: ${arg}`);
          return env[name]!;
        case '+':
          return present ? arg : '';
        default:
          return env[name] ?? '';
      }
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolated(v, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolated(v, env)]));
  }
  return value;
}

/** Named volumes' sources: neither a path (., /, ~) nor a bind mount's. */
function namedVolume(volume: string | { type?: string; source?: string }): string | undefined {
  const source =
    typeof volume === 'string'
      ? volume.includes(':')
        ? volume.split(':')[0]
        : undefined
      : volume.type === 'volume'
        ? volume.source
        : undefined;
  return source && !/^[./~]/.test(source) ? source : undefined;
}

/** What `docker-compose config` would reject besides the schema: references to undefined things. */
function referenceProblems(config: ComposeConfig): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(config.services ?? {})) {
    const deps = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
    for (const dep of deps) {
      if (!config.services[dep]) problems.push(`service "${name}" depends on undefined service "${dep}"`);
    }
    for (const volume of (service.volumes ?? []).map(namedVolume)) {
      if (volume && !(config.volumes && volume in config.volumes)) {
        problems.push(`service "${name}" uses named volume "${volume}", which is not declared under volumes`);
      }
    }
  }
  return problems;
}
