/**
 * Validates docker-compose.yml with the validator test/provision/compose.ts chose (docker-compose's
 * `config`, or the Compose Specification's JSON schema through check-jsonschema; neither needs a Docker
 * engine), checks how the services are wired, and that the validation rejects broken files.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { checkCompose, composeValidator, type ComposeConfig, type ComposeService } from '../helpers/compose';

const repoRoot = path.resolve(__dirname, '..', '..');
const composeFile = path.join(repoRoot, 'docker-compose.yml');

let cached: ComposeConfig | undefined;
function resolvedConfig(): ComposeConfig {
  if (cached) return cached;
  const checked = checkCompose(composeFile);
  if (!checked.ok) assert.fail(`${composeValidator()} rejects docker-compose.yml:\n${checked.message}`);
  cached = checked.config;
  return cached;
}

/** Writes `lines` as a compose file in a temp dir and checks it. */
function checkBroken(lines: string[]) {
  const dir = fs.mkdtempSync(path.join(process.env.MLPIPE_TEST_TMP ?? os.tmpdir(), 'mlpipe-compose-'));
  try {
    const file = path.join(dir, 'docker-compose.yml');
    fs.writeFileSync(file, [...lines, ''].join('\n'));
    return checkCompose(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function dependsOn(service: ComposeService): Record<string, string | undefined> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((name) => [name, undefined]));
  return Object.fromEntries(Object.entries(deps).map(([name, dep]) => [name, dep.condition]));
}

test('the validation accepts docker-compose.yml: postgresql, temporal, temporal-ui, admin job, s3, bucket job, worker', () => {
  const services = Object.keys(resolvedConfig().services);
  for (const name of [
    'postgresql',
    'temporal',
    'temporal-ui',
    'temporal-admin-tools',
    's3',
    's3-bucket',
    'worker',
    'prometheus',
    'grafana',
  ]) {
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
  assert.equal(db.username, 'temporal', "the default credentials are the postgresql service's");
  assert.equal(env.MLPIPE_DATA_DIR, '/data');
  const mountsData = (worker.volumes ?? []).some((v) =>
    typeof v === 'string' ? v.split(':')[1] === '/data' : v.target === '/data',
  );
  assert.ok(mountsData, 'the worker must mount a volume at /data');
  assert.ok(worker.build, 'the worker is built from the repository Dockerfile');
  // A fleet: two replicas whose artifacts live in the stack's object store, created before they start.
  assert.equal(worker.deploy?.replicas, 2);
  assert.match(String(env.MLPIPE_ARTIFACTS_URL), /^s3:\/\/mlpipe\//);
  assert.equal(new URL(String(env.MLPIPE_S3_ENDPOINT)).hostname, 's3');
  assert.ok(services.s3, 'the S3 endpoint is a service of the stack');
  assert.equal(dependsOn(worker)['s3-bucket'], 'service_completed_successfully');
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

test('Prometheus scrapes the workers on their metrics port; the dashboard charts only metrics the code emits', () => {
  const { services } = resolvedConfig();
  const metricsAddress = String(services.worker!.environment?.MLPIPE_METRICS_ADDRESS);
  const scrape = fs.readFileSync(path.join(repoRoot, 'deploy', 'prometheus', 'prometheus.yml'), 'utf8');
  assert.match(scrape, /names: \[worker\]/);
  assert.match(scrape, new RegExp(`port: ${metricsAddress.split(':')[1]}\\b`), 'scrapes the port the workers serve');
  const dashboard = JSON.parse(
    fs.readFileSync(path.join(repoRoot, 'deploy', 'grafana', 'dashboards', 'mlpipe.json'), 'utf8'),
  ) as { panels: { title: string; targets: { expr: string }[] }[] };
  const emitted = ['activities/pipeline-metrics.ts', 'src/serving/metrics.ts']
    .map((f) => fs.readFileSync(path.join(repoRoot, f), 'utf8'))
    .join('\n');
  const used = dashboard.panels.flatMap((p) =>
    p.targets.flatMap((t) => t.expr.match(/\b(mlpipe|temporal)_[a-z_]+/g) ?? []),
  );
  assert.ok(used.length >= 10, 'the dashboard charts the pipelines');
  for (const name of used.filter((n) => n.startsWith('mlpipe_'))) {
    // Counters are served with a _total suffix, histograms as _bucket series.
    const base = name.replace(/_(total|bucket|sum|count)$/, '');
    assert.ok(
      emitted.includes(`'${base}'`) || emitted.includes(base),
      `the dashboard charts ${name}, which nothing emits`,
    );
  }
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

test('the validation rejects dangling references: a missing service, an undeclared named volume', () => {
  // Guards the check itself: what the services refer to must exist.
  const missingService = checkBroken([
    'services:',
    '  worker:',
    '    image: busybox',
    '    depends_on:',
    '      - temporall',
  ]);
  assert.ok(!missingService.ok, 'the validation accepted a dependency on an undefined service');
  assert.match(missingService.message, /temporall/);

  const undeclaredVolume = checkBroken([
    'services:',
    '  worker:',
    '    image: busybox',
    '    volumes:',
    '      - mlpipe-dta:/data',
  ]);
  assert.ok(!undeclaredVolume.ok, 'the validation accepted an undeclared named volume');
  assert.match(undeclaredVolume.message, /mlpipe-dta/);
});

test('the validation rejects an unknown key and a value of the wrong type, naming them', () => {
  const unknownKey = checkBroken(['services:', '  worker:', '    image: busybox', '    depnds_on: [temporal]']);
  assert.ok(!unknownKey.ok, 'the validation accepted an unknown key');
  assert.match(unknownKey.message, /depnds_on/);

  const wrongType = checkBroken(['services:', '  worker:', '    image: busybox', '    ports: 8080']);
  assert.ok(!wrongType.ok, 'the validation accepted ports that are not a list');
  assert.match(wrongType.message, /ports/);
});
