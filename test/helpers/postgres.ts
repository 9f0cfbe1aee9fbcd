/**
 * A throwaway PostgreSQL cluster for tests: initdb into a temporary directory, a server on a
 * free loopback port (never the default cluster on 5432), a role and database for the store,
 * and outage controls (shut down and start again on the same port and data, pause and resume).
 *
 * PostgreSQL refuses to run as root: when the tests run as root, initdb, pg_ctl and the server
 * run as the `postgres` user, which owns the directory. When the binaries are missing, suites
 * declared with describeWithPostgres are skipped with one warning saying how to install them.
 *
 * Cleanup: usePostgres stops the cluster in afterAll, also when tests fail; a watchdog process
 * removes it if the test process dies without cleaning up (killed, interrupted).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, appendFileSync, chownSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { skipLoudly } from './system-packages';

/** How to get the binaries, for the skip warning and errors. */
export const POSTGRES_INSTALL_HINT = 'install the Debian package postgresql (apt-get install postgresql)';

export type PostgresAvailability = { available: true; binDir: string; runAs?: { uid: number; gid: number } } | { available: false; reason: string };

const REQUIRED_BINARIES = ['initdb', 'pg_ctl', 'postgres'];
let availability: PostgresAvailability | undefined;

/** Directories that may hold initdb: $PG_BINDIR, Debian's /usr/lib/postgresql/<newest>/bin, then PATH. */
function candidateBinDirs(): string[] {
  const debian = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql')
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
        .map((v) => `/usr/lib/postgresql/${v}/bin`)
    : [];
  return [process.env.PG_BINDIR, ...debian, ...(process.env.PATH ?? '').split(path.delimiter)].filter((d): d is string => !!d);
}

/** The uid and gid of a system user, from /etc/passwd. */
function systemUser(name: string): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * Whether a test cluster can be made here: the binaries, and (as root) a `postgres` user to
 * run them as. Cached, unless `searchDirs` is given (tests of this helper).
 * @param searchDirs - where to look for the binaries instead of the usual places
 */
export function postgresAvailable(searchDirs?: readonly string[]): PostgresAvailability {
  if (searchDirs) return findPostgres(searchDirs, searchDirs.join(', '));
  return (availability ??= findPostgres(candidateBinDirs(), '$PG_BINDIR, /usr/lib/postgresql/*/bin or PATH'));
}

function findPostgres(searchDirs: readonly string[], where: string): PostgresAvailability {
  const executable = (file: string) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  const binDir = searchDirs.find((dir) => REQUIRED_BINARIES.every((b) => executable(path.join(dir, b))));
  if (!binDir) {
    return { available: false, reason: `PostgreSQL server binaries (${REQUIRED_BINARIES.join(', ')}) not found in ${where}` };
  }
  if (process.getuid?.() !== 0) return { available: true, binDir };
  const runAs = systemUser('postgres');
  return runAs ? { available: true, binDir, runAs } : { available: false, reason: 'running as root and there is no postgres user to run the server as' };
}

/**
 * The one place that decides whether PostgreSQL suites run: `describe` when a cluster can be
 * made, else `describe.skip` and one warning line naming the reason and the package to install.
 * @param name - the suite's name
 * @param fn - its body
 * @param found - what postgresAvailable found (tests of this helper pass their own)
 */
export function describeWithPostgres(name: string, fn: () => void, found: PostgresAvailability = postgresAvailable()): void {
  if (found.available) {
    describe(name, fn);
    return;
  }
  // A given `found` is a test of this helper: it must not count as a skip of the run.
  skipLoudly(name, [{ name: 'postgresql', why: found.reason }], fn, found === availability);
}

export interface TestPostgres {
  /** The store's URL: role `icd10` on database `icd10` (password auth over TCP). */
  url: string;
  port: number;
  /** PEM of the CA that signed the server certificate (only with `tls`). */
  ca?: string;
  /** A new empty database owned by the store's role; its URL. */
  createDatabase(): Promise<string>;
  /** A superuser session on the database of `url` (default: the store's), for holding locks or transactions; end it. */
  connect(url?: string): Promise<Client>;
  /** Runs one statement as the superuser on the database of `url` (default: the store's). */
  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[], url?: string): Promise<T[]>;
  /** Stops the server, keeping its data and port (outage). `immediate` is a crash: no checkpoint. */
  shutdown(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Freezes the server (SIGSTOP to it and its backends): connections open, nothing answers. */
  pause(): void;
  resume(): void;
  /** Stops the server and removes its directory; safe to call twice. */
  stop(): Promise<void>;
}

/** A TCP port nothing listens on now, on loopback. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Runs a PostgreSQL binary (as the postgres user when we are root).
 * @returns its output; rejects with its stderr when it fails
 */
function runBinary(file: string, args: string[], cwd: string, runAs?: { uid: number; gid: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'], ...runAs });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`${path.basename(file)} ${args[0]} failed (${code}): ${output.trim()}`))));
  });
}

/** The pids of the postmaster and its children (backends, background workers). */
function serverPids(dataDir: string): number[] {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return [];
  const postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' })
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((pid) => pid > 0);
  return [postmaster, ...children];
}

/**
 * Removes the cluster when the test process `$1` is gone without stopping it (run as the
 * cluster's owner); exits by itself once stop() has removed the directory `$4`.
 */
const WATCHDOG = `
while [ -d "/proc/$1" ] && [ -d "$4" ]; do sleep 1; done
[ -d "$4" ] || exit 0
pm=$(head -n 1 "$3/postmaster.pid" 2>/dev/null)
if [ -n "$pm" ]; then kill -CONT $pm $(ps -o pid= --ppid $pm) 2>/dev/null; fi
"$2/pg_ctl" -D "$3" -m immediate -w stop >/dev/null 2>&1
rm -rf "$4"
`;

/** A self-signed server certificate for `localhost` only (so connecting to 127.0.0.1 fails host-name verification). */
function makeCertificate(dir: string): string {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost',
      '-keyout',
      path.join(dir, 'server.key'),
      '-out',
      path.join(dir, 'server.crt'),
    ],
    { stdio: 'ignore' },
  );
  return readFileSync(path.join(dir, 'server.crt'), 'utf8');
}

/**
 * Creates and starts a cluster. Prefer usePostgres, which also stops it.
 * @param options - `tls`: the server also speaks TLS (self-signed certificate for `localhost`)
 *   and the store's role may connect only over TLS
 */
export async function startPostgres(options: { tls?: boolean } = {}): Promise<TestPostgres> {
  const found = postgresAvailable();
  if (!found.available) throw new Error(`${found.reason}; ${POSTGRES_INSTALL_HINT}`);
  const { binDir, runAs } = found;
  const base = mkdtempSync(path.join(tmpdir(), 'icd10-pg-'));
  const data = path.join(base, 'data');
  const own = (file: string) => runAs && chownSync(file, runAs.uid, runAs.gid);
  own(base);
  const superPassword = randomBytes(12).toString('hex');
  const storePassword = randomBytes(12).toString('hex');
  const pwfile = path.join(base, 'pwfile');
  writeFileSync(pwfile, superPassword, { mode: 0o600 });
  own(pwfile);
  const pgCtl = (...args: string[]) => runBinary(path.join(binDir, 'pg_ctl'), args, base, runAs);
  let stopped = false;
  let paused: number[] = [];
  const removeAll = () => rmSync(base, { recursive: true, force: true });

  try {
    await runBinary(
      path.join(binDir, 'initdb'),
      ['-D', data, '-U', 'postgres', `--pwfile=${pwfile}`, '-A', 'scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'],
      base,
      runAs,
    );
    let ca: string | undefined;
    const conf = [
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${base}'`,
      // Test speed: a killed server still recovers (the OS keeps what was written), a killed machine would not.
      'fsync = off',
      'full_page_writes = off',
      `max_connections = 50`,
    ];
    if (options.tls) {
      ca = makeCertificate(base);
      own(path.join(base, 'server.key'));
      own(path.join(base, 'server.crt'));
      conf.push('ssl = on', `ssl_cert_file = '${base}/server.crt'`, `ssl_key_file = '${base}/server.key'`);
      // The store's role only over TLS; the superuser (this helper) in plaintext too.
      writeFileSync(
        path.join(data, 'pg_hba.conf'),
        [
          'local all all scram-sha-256',
          'hostssl all all 127.0.0.1/32 scram-sha-256',
          'host all postgres 127.0.0.1/32 scram-sha-256',
          'hostnossl all all 127.0.0.1/32 reject',
          '',
        ].join('\n'),
      );
    }
    appendFileSync(path.join(data, 'postgresql.conf'), `\n${conf.join('\n')}\n`);

    // Another process may take the port between our probe and the server's bind: try again.
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      appendFileSync(path.join(data, 'postgresql.conf'), `port = ${port}\n`);
      try {
        await pgCtl('start', '-D', data, '-w', '-t', '60', '-l', path.join(base, 'server.log'));
        break;
      } catch (error) {
        if (attempt === 3)
          throw new Error(`${(error as Error).message}\n${readFileSync(path.join(base, 'server.log'), 'utf8').slice(-2000)}`, { cause: error });
      }
    }
    spawn('/bin/sh', ['-c', WATCHDOG, 'watchdog', String(process.pid), binDir, data, base], { cwd: base, detached: true, stdio: 'ignore', ...runAs }).unref();

    const urlOf = (user: string, password: string, database: string) => `postgres://${user}:${password}@127.0.0.1:${port}/${database}`;
    const storeUrl = urlOf('icd10', storePassword, 'icd10');
    const asSuperuser = (url: string) => {
      const u = new URL(url);
      u.username = 'postgres';
      u.password = superPassword;
      return u.toString();
    };
    const connect = async (url = storeUrl): Promise<Client> => {
      const client = new Client({ connectionString: asSuperuser(url), connectionTimeoutMillis: 5000 });
      client.on('error', () => undefined);
      await client.connect();
      return client;
    };
    const query = async <T extends Record<string, unknown>>(sql: string, params: unknown[] = [], url = storeUrl): Promise<T[]> => {
      const client = await connect(url);
      try {
        return (await client.query<T>(sql, params)).rows;
      } finally {
        await client.end();
      }
    };
    await query(`CREATE ROLE icd10 LOGIN PASSWORD '${storePassword}'`, [], urlOf('postgres', superPassword, 'postgres'));
    await query('CREATE DATABASE icd10 OWNER icd10', [], urlOf('postgres', superPassword, 'postgres'));
    let databases = 0;
    const resume = () => {
      for (const pid of paused) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          // exited meanwhile
        }
      }
      paused = [];
    };

    return {
      url: storeUrl,
      port,
      ca,
      async createDatabase() {
        const name = `icd10_${++databases}`;
        await query(`CREATE DATABASE ${name} OWNER icd10`, [], urlOf('postgres', superPassword, 'postgres'));
        return urlOf('icd10', storePassword, name);
      },
      connect,
      query,
      async shutdown(mode = 'fast') {
        resume();
        await pgCtl('stop', '-D', data, '-w', '-m', mode);
      },
      async start() {
        await pgCtl('start', '-D', data, '-w', '-t', '60', '-l', path.join(base, 'server.log'));
      },
      pause() {
        paused = serverPids(data);
        for (const pid of paused) process.kill(pid, 'SIGSTOP');
      },
      resume,
      async stop() {
        if (stopped) return;
        stopped = true;
        resume();
        if (existsSync(path.join(data, 'postmaster.pid'))) await pgCtl('stop', '-D', data, '-w', '-m', 'fast').catch(() => undefined);
        removeAll();
      },
    };
  } catch (error) {
    if (existsSync(path.join(data, 'postmaster.pid'))) await pgCtl('stop', '-D', data, '-w', '-m', 'immediate').catch(() => undefined);
    removeAll();
    throw error;
  }
}

/**
 * A cluster for the enclosing describe block: started in beforeAll, stopped and removed in
 * afterAll (which jest runs also when tests fail).
 * @param options - as startPostgres
 * @returns the cluster, once beforeAll has run
 */
export function usePostgres(options: { tls?: boolean } = {}): () => TestPostgres {
  let cluster: TestPostgres | undefined;
  beforeAll(async () => {
    cluster = await startPostgres(options);
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);
  return () => {
    if (!cluster) throw new Error('the PostgreSQL cluster did not start (see beforeAll)');
    return cluster;
  };
}
