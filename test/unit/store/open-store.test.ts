/**
 * openStore: the configuration picks the engine (STORE_URL set: PostgreSQL with the pool
 * settings; unset: SQLite at STORE_PATH), a bad URL fails before any connection with every
 * problem named and no password, and the log line says where the store is, never the password.
 */
import { Writable } from 'node:stream';
import { loadConfig } from '../../../src/config';
import { createLogger } from '../../../src/log';
import { openStore } from '../../../src/store/open-store';
import { describeWithPostgres, usePostgres } from '../../helpers/postgres';

function capturedLog() {
  const lines: string[] = [];
  const log = createLogger(
    'info',
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    }),
  );
  return { log, lines };
}

test('unset STORE_URL: the SQLite store at STORE_PATH', async () => {
  const { log, lines } = capturedLog();
  const store = await openStore(loadConfig({ STORE_PATH: ':memory:' }), log);
  try {
    expect(store.kind).toBe('sqlite');
    expect(JSON.parse(lines[0])).toMatchObject({ msg: 'store opened', store: 'sqlite', path: ':memory:' });
  } finally {
    await store.close();
  }
});

test('a bad STORE_URL fails at once, naming every problem, never the password', async () => {
  const config = loadConfig({ STORE_URL: 'postgres://u:hunter2secret@db.invalid:0/?sslmode=prefer' });
  const started = performance.now();
  const error = await openStore(config, capturedLog().log).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(performance.now() - started).toBeLessThan(100);
  expect(error?.message).toBe(
    'store URL postgres://u@db.invalid:0/: names no database; sslmode prefer is refused: it falls back to plaintext ' +
      '(use verify-full, verify-ca, require or disable); port 0 is not a TCP port',
  );
  expect(error?.message).not.toContain('hunter2secret');
});

describeWithPostgres('STORE_URL names a PostgreSQL database', () => {
  const cluster = usePostgres();

  test('the PostgreSQL store with the pool settings; the log names the database without the password', async () => {
    const url = await cluster().createDatabase();
    const password = decodeURIComponent(new URL(url).password);
    const { log, lines } = capturedLog();
    const store = await openStore(loadConfig({ STORE_URL: url, STORE_POOL_SIZE: '3', STORE_CONNECT_TIMEOUT_MS: '1000' }), log);
    try {
      expect(store.kind).toBe('postgresql');
      expect(await store.writable()).toBe(true);
      const opened = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'store opened');
      expect(opened).toMatchObject({ store: 'postgresql', poolSize: 3, location: `postgres://icd10@127.0.0.1:${cluster().port}${new URL(url).pathname}` });
      expect(lines.join('\n')).not.toContain(password);
      // The pool holds at most STORE_POOL_SIZE connections, however many calls wait.
      await Promise.all(Array.from({ length: 12 }, () => store.auditRecords()));
      const [{ n }] = await cluster().query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE usename = 'icd10' AND datname = $1", [
        new URL(url).pathname.slice(1),
      ]);
      expect(Number(n)).toBeLessThanOrEqual(3);
    } finally {
      await store.close();
    }
  });
});
