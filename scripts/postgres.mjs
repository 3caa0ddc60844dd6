// Finds a PostgreSQL server for the tests and the bench, or starts a throwaway one:
// TEST_DATABASE_URL if set, else a server answering on 127.0.0.1:5432, else a cluster made with the
// machine's initdb/pg_ctl (Debian's postgresql package) in a temporary directory, stopped at exit.
// Written by hand: it is a few process calls, and pg (already a dependency) answers whether a server is there.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const HOW_TO_GET_ONE =
  'No PostgreSQL server for the tests: set TEST_DATABASE_URL=postgres://user@host:port/database, run one on 127.0.0.1:5432 ' +
  '(trust or password auth), or install Debian\'s postgresql package (apt-get install postgresql) so that a throwaway cluster can be started.';

/** True when a server answers this URL and lets us create databases. */
async function usable(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    const { rows } = await client.query('SELECT rolcreatedb OR rolsuper AS can FROM pg_roles WHERE rolname = current_user');
    return rows[0]?.can === true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function postgresBin() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(base, version, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return null;
}

/** initdb refuses to run as root: as root, the cluster belongs to the postgres system user. */
function asClusterUser(command, args) {
  if (userInfo().uid !== 0) return spawnSync(command, args, { encoding: 'utf8' });
  return spawnSync('runuser', ['-u', 'postgres', '--', command, ...args], { encoding: 'utf8' });
}

async function startThrowawayCluster() {
  const bin = postgresBin();
  if (!bin) return null;
  const dir = mkdtempSync(join(tmpdir(), 'mediago-pg-'));
  if (userInfo().uid === 0) chownSync(dir, Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim()), Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim()));
  const data = join(dir, 'data');
  const init = asClusterUser(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const start = asClusterUser(join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
  if (start.status !== 0) throw new Error(`pg_ctl start failed: ${start.stderr || start.stdout}`);
  const stop = () => {
    asClusterUser(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
    rmSync(dir, { recursive: true, force: true });
  };
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop };
}

/**
 * A PostgreSQL URL the tests may create databases on, and a stop for a cluster started here (a no-op otherwise).
 * Throws, saying how to get one, when there is none.
 */
export async function ensurePostgres() {
  const given = process.env.TEST_DATABASE_URL;
  if (given) {
    if (await usable(given)) return { url: given, started: false, stop: () => undefined };
    throw new Error(`TEST_DATABASE_URL (${given.replace(/\/\/[^@]*@/, '//…@')}) does not answer, or its user cannot create databases`);
  }
  // TEST_POSTGRES=throwaway: a cluster of its own even where a server runs (what a machine without one gets)
  for (const user of process.env.TEST_POSTGRES === 'throwaway' ? [] : ['postgres', userInfo().username]) {
    const url = `postgres://${user}@127.0.0.1:5432/postgres`;
    if (await usable(url)) return { url, started: false, stop: () => undefined };
  }
  const cluster = await startThrowawayCluster();
  if (cluster && (await usable(cluster.url))) return { ...cluster, started: true };
  cluster?.stop();
  throw new Error(HOW_TO_GET_ONE);
}
