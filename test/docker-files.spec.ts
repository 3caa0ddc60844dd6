import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { validate } from 'dockerfile-utils';
import { parse } from 'yaml';

// No Docker engine runs here: these checks are what can be proven without one (lint, names, files, variables).
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (name: string) => readFileSync(join(ROOT, name), 'utf8');
const configSource = read('src/config/app-config.ts');
const readme = read('README.md');

/** The variables the service reads: each is named in app-config.ts and documented in the README's table. */
function isServiceVariable(name: string): boolean {
  return configSource.includes(`'${name}'`) && readme.includes(`| \`${name}\` |`);
}

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const lines = dockerfile.split('\n');

  it('lints clean with dockerfile-utils', () => {
    assert.deepEqual(validate(dockerfile).map((problem) => `line ${problem.range.start.line + 1}: ${problem.message}`), []);
  });

  it('copies only files that exist and that .dockerignore lets through', () => {
    const ignored = read('.dockerignore').split('\n').map((line) => line.trim()).filter(Boolean);
    const sources = lines
      .filter((line) => /^COPY\s/.test(line) && !line.includes('--from='))
      .flatMap((line) => line.trim().split(/\s+/).slice(1, -1));
    assert.ok(sources.length > 0);
    for (const source of sources) {
      assert.ok(existsSync(join(ROOT, source)), `COPY ${source}: no such file in the repository`);
      assert.ok(!ignored.includes(source.split('/')[0]), `COPY ${source} is excluded by .dockerignore`);
    }
  });

  it('runs the service as an unprivileged user on a supported Node LTS', () => {
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const user = /^USER\s+(\S+)/m.exec(finalStage)?.[1];
    assert.ok(user && user !== 'root' && user !== '0', `the final stage runs as ${user ?? 'root'}`);
    for (const from of dockerfile.matchAll(/^FROM\s+node:(\d+)/gm)) assert.ok(Number(from[1]) >= 22, `FROM node:${from[1]} is out of support`);
  });

  it('sets only variables the service reads', () => {
    const env = lines.filter((line) => line.startsWith('ENV ')).flatMap((line) => [...line.matchAll(/([A-Z_]+)=/g)].map((match) => match[1]));
    for (const name of env.filter((name) => name !== 'NODE_ENV')) assert.ok(isServiceVariable(name), `ENV ${name} is not a variable of the service`);
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'));
  const service = compose.services?.mediago;

  it('parses and builds this repository with its Dockerfile', () => {
    assert.ok(service, 'a "mediago" service');
    assert.ok(existsSync(join(ROOT, service.build.context, service.build.dockerfile)));
  });

  it('sets only variables the service reads, and requires an API key', () => {
    const names = Object.keys(service.environment);
    for (const name of names) assert.ok(isServiceVariable(name), `${name} is not a variable of the service`);
    assert.match(service.environment.API_KEY, /^\$\{API_KEY:\?/);
  });

  it('keeps data in volumes at the paths the image uses, and has a health check on the port it publishes', () => {
    const dockerfile = read('Dockerfile');
    const port = /PORT=(\d+)/.exec(dockerfile)?.[1];
    assert.ok(service.ports.some((mapping: string) => mapping.endsWith(`:${port}`)));
    assert.ok(service.volumes.some((volume: string) => volume.endsWith(':/data')));
    assert.ok(service.volumes.some((volume: string) => volume.endsWith(':/downloads')));
    assert.ok(service.healthcheck.test.join(' ').includes(`:${port}/healthy`));
    for (const volume of service.volumes.map((entry: string) => entry.split(':')[0]).filter((name: string) => !name.startsWith('.'))) {
      assert.ok(volume in compose.volumes, `volume ${volume} is declared`);
    }
  });
});

describe('docker-compose.cluster.yml', () => {
  const compose = parse(read('docker-compose.cluster.yml'), { merge: true });
  const nodes = Object.entries<any>(compose.services ?? {}).filter(([name]) => name.startsWith('node-'));

  it('runs PostgreSQL with a health check, and three nodes that wait for it', () => {
    assert.ok(compose.services.postgres.image.startsWith('postgres:'));
    assert.ok(compose.services.postgres.healthcheck.test.join(' ').includes('pg_isready'));
    assert.equal(nodes.length, 3);
    for (const [, node] of nodes) assert.equal(node.depends_on.postgres.condition, 'service_healthy');
  });

  it('gives every node the database, its own NODE_ID and port, the shared downloads volume, and only variables the service reads', () => {
    const ids = nodes.map(([, node]) => node.environment.NODE_ID);
    assert.equal(new Set(ids).size, 3, `distinct node ids: ${ids.join(', ')}`);
    const ports = nodes.map(([, node]) => node.ports[0].split(':')[0]);
    assert.equal(new Set(ports).size, 3);
    for (const [name, node] of nodes) {
      assert.match(node.environment.DATABASE_URL, /^postgres:\/\/mediago:\$\{POSTGRES_PASSWORD\}@postgres:5432\/mediago$/, name);
      assert.match(node.environment.API_KEY, /^\$\{API_KEY:\?/, name);
      for (const variable of Object.keys(node.environment)) assert.ok(isServiceVariable(variable), `${variable} is not a variable of the service`);
      assert.ok(node.volumes.includes('./downloads:/downloads'), `${name} shares the downloads`);
      assert.ok(existsSync(join(ROOT, node.build.context, node.build.dockerfile)));
    }
  });
});
