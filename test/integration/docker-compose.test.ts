/**
 * Validates docker-compose.yml with Debian's docker-compose (v1) — `docker-compose config` resolves
 * and checks the whole file without a Docker engine — and checks how the services are wired.
 */
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

const repoRoot = path.resolve(__dirname, '..', '..');
const composeFile = path.join(repoRoot, 'docker-compose.yml');

interface ComposeService {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | null>;
  depends_on?: Record<string, { condition?: string }> | string[];
  volumes?: Array<string | { target?: string; source?: string }>;
  ports?: Array<string | { published?: number | string; target?: number | string }>;
}
interface ComposeConfig {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const INSTALL_HINT =
  'docker-compose is not installed: install Debian\'s package with `apt-get update && apt-get install -y docker-compose` ' +
  '(.ci/run does this); no Docker engine is needed for `docker-compose config`';

/** The environment without variables that docker-compose.yml interpolates, so results are deterministic. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of ['POSTGRES_USER', 'POSTGRES_PASSWORD', 'LOG_LEVEL', 'COMPOSE_FILE', 'COMPOSE_PROJECT_NAME']) delete env[key];
  return env;
}

function compose(file: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('docker-compose', ['-f', file, ...args], {
    cwd: path.dirname(file),
    env: cleanEnv(),
    encoding: 'utf8',
    timeout: 60_000,
  });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') assert.fail(INSTALL_HINT);
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** docker-compose v1 is a Python program that depends on PyYAML: its own interpreter turns YAML into JSON. */
function yamlToJson(yamlText: string): unknown {
  const which = spawnSync('sh', ['-c', 'command -v docker-compose'], { encoding: 'utf8' });
  const composePath = which.stdout.trim();
  assert.ok(composePath, INSTALL_HINT);
  const shebang = fs.readFileSync(composePath, 'utf8').split('\n', 1)[0] ?? '';
  const interpreter = /^#!\s*(\S*python\S*)/.exec(shebang)?.[1] ?? 'python3';
  const result = spawnSync(
    interpreter,
    ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
    { input: yamlText, encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(result.status, 0, `could not parse docker-compose output with ${interpreter} + PyYAML: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

let cached: ComposeConfig | undefined;
function resolvedConfig(): ComposeConfig {
  if (cached) return cached;
  const { status, stdout, stderr } = compose(composeFile, ['config']);
  assert.equal(status, 0, `docker-compose config failed:\n${stderr}`);
  cached = yamlToJson(stdout) as ComposeConfig;
  return cached;
}

function dependsOn(service: ComposeService): Record<string, string | undefined> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((name) => [name, undefined]));
  return Object.fromEntries(Object.entries(deps).map(([name, dep]) => [name, dep.condition]));
}

test('docker-compose config accepts docker-compose.yml: postgresql, temporal, temporal-ui, admin job, worker', () => {
  const services = Object.keys(resolvedConfig().services);
  for (const name of ['postgresql', 'temporal', 'temporal-ui', 'temporal-admin-tools', 'worker']) {
    assert.ok(services.includes(name), `service ${name} missing; have ${services.join(', ')}`);
  }
});

test('the worker talks to the temporal service and the mlpipe database on the postgresql service', () => {
  const { services } = resolvedConfig();
  const worker = services.worker;
  assert.ok(worker, 'worker service missing');
  const env = worker.environment ?? {};
  assert.equal(env.TEMPORAL_ADDRESS, 'temporal:7233');
  const [host] = String(env.TEMPORAL_ADDRESS).split(':');
  assert.ok(host && services[host], `TEMPORAL_ADDRESS host ${host} is not a service of the stack`);

  const db = new URL(String(env.MLPIPE_DATABASE_URL));
  assert.equal(db.protocol, 'postgres:');
  assert.equal(db.hostname, 'postgresql');
  assert.equal(db.port, '5432');
  assert.equal(db.pathname, '/mlpipe');
  assert.equal(db.username, 'temporal', 'the default credentials are the postgresql service\'s');
  assert.equal(env.MLPIPE_DATA_DIR, '/data');
  const mountsData = (worker.volumes ?? []).some((v) =>
    typeof v === 'string' ? v.split(':')[1] === '/data' : v.target === '/data',
  );
  assert.ok(mountsData, 'the worker must mount a volume at /data');
  assert.ok(worker.build, 'the worker is built from the repository Dockerfile');
  assert.equal(dependsOn(worker).temporal, 'service_healthy');
  assert.equal(dependsOn(worker)['temporal-admin-tools'], 'service_completed_successfully');
});

test('temporal runs the pinned auto-setup image on the postgresql service, the UI on port 8233', () => {
  const { services } = resolvedConfig();
  const temporal = services.temporal!;
  assert.equal(temporal.image, 'temporalio/auto-setup:1.29.1');
  assert.equal(temporal.environment?.DB, 'postgres12');
  assert.equal(temporal.environment?.POSTGRES_SEEDS, 'postgresql');
  assert.equal(dependsOn(temporal).postgresql, 'service_healthy');

  const ui = services['temporal-ui']!;
  assert.match(String(ui.image), /^temporalio\/ui:\d+\.\d+\.\d+$/);
  assert.equal(ui.environment?.TEMPORAL_ADDRESS, 'temporal:7233');
  const ports = (ui.ports ?? []).map((p) => (typeof p === 'string' ? p : `${p.published}:${p.target}`));
  assert.ok(ports.includes('8233:8080'), `temporal-ui ports: ${ports.join(', ')}`);
});

test('the admin job registers every pipeline search attribute as Keyword', () => {
  const raw = fs.readFileSync(composeFile, 'utf8');
  for (const name of ['PipelineKind', 'ModelName', 'PipelineStage', 'FeatureSet', 'Partition']) {
    assert.match(raw, new RegExp(`\\b${name}\\b`), `search attribute ${name} is not registered`);
  }
  assert.match(raw, /search-attribute create[^\n]*--type Keyword/);
});

test('postgres init script creates the mlpipe database', () => {
  const sql = fs.readFileSync(path.join(repoRoot, 'deploy', 'postgres', 'init.sql'), 'utf8');
  assert.match(sql, /CREATE DATABASE mlpipe\b/i);
  const postgres = resolvedConfig().services.postgresql!;
  const mounted = (postgres.volumes ?? []).some((v) =>
    (typeof v === 'string' ? v : `${v.source}:${v.target}`).includes('/docker-entrypoint-initdb.d/'),
  );
  assert.ok(mounted, 'init.sql must be mounted into /docker-entrypoint-initdb.d');
});

test('docker-compose config rejects a stack whose worker depends on a missing service', () => {
  // Guards the check itself: a broken file must make `docker-compose config` fail.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlpipe-compose-'));
  try {
    const broken = path.join(dir, 'docker-compose.yml');
    fs.writeFileSync(
      broken,
      ['services:', '  worker:', '    image: busybox', '    depends_on:', '      - temporall', ''].join('\n'),
    );
    const { status, stderr } = compose(broken, ['config', '--quiet']);
    assert.notEqual(status, 0, 'docker-compose config accepted a dependency on an undefined service');
    assert.match(stderr, /temporall/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
