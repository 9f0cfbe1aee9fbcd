/**
 * The compiled server with STORE_URL (dist/main.js, built by `pretest`): a bad URL or an
 * unreachable database stops the start before the model is loaded, naming the problem and
 * never the password; a good one serves on PostgreSQL (readiness names it) and stops cleanly.
 */
import { createServer } from 'node:net';
import { spawnServer, type ServerProcess } from '../helpers/server-process';
import { describeWithPostgres, usePostgres } from '../helpers/postgres';

/** Exit code, stderr and whether the model was loaded, of a start that must fail. */
async function failedStart(server: ServerProcess) {
  let stderr = '';
  server.child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const { code } = await server.exited;
  return { code, stderr, modelLoaded: server.lines.some((l) => l.msg === 'model loaded'), stdout: JSON.stringify(server.lines) };
}

test('a bad STORE_URL: exits 1 naming every problem, before the model is loaded, without the password', async () => {
  const { code, stderr, modelLoaded, stdout } = await failedStart(
    spawnServer({ PORT: '0', STORE_URL: 'postgres://icd10:s3cret-pw@db.example/icd10?sslmode=allow&connect_timout=3' }),
  );
  expect(code).toBe(1);
  expect(stderr.trim()).toBe(
    'icd10-cds failed to start: store URL postgres://icd10@db.example/icd10: parameter connect_timout is not supported ' +
      '(supported: sslmode, sslrootcert, connect_timeout, application_name); ' +
      'sslmode allow is refused: it falls back to plaintext (use verify-full, verify-ca, require or disable)',
  );
  expect(modelLoaded).toBe(false);
  expect(stderr + stdout).not.toContain('s3cret-pw');
});

test('a database nobody listens on: exits 1 at once, the store unavailable, never listening', async () => {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = probe.address() as { port: number };
      probe.close(() => resolve(p));
    });
  });
  const { code, stderr, modelLoaded, stdout } = await failedStart(spawnServer({ PORT: '0', STORE_URL: `postgres://icd10:s3cret-pw@127.0.0.1:${port}/icd10` }));
  expect(code).toBe(1);
  expect(stderr).toMatch(/^icd10-cds failed to start: postgresql store: open failed: connect ECONNREFUSED/);
  expect(modelLoaded).toBe(false);
  expect(stdout).not.toContain('listening');
  expect(stderr + stdout).not.toContain('s3cret-pw');
});

describeWithPostgres('dist/main.js on PostgreSQL', () => {
  const cluster = usePostgres();

  test('serves with STORE_URL, /readyz names the store, SIGTERM stops it with exit 0; the password is never logged', async () => {
    const url = await cluster().createDatabase();
    const server = spawnServer({ PORT: '0', HOST: '127.0.0.1', STORE_URL: url, STORE_POOL_SIZE: '2', AUTH: 'off' });
    try {
      const opened = await server.logged('store opened');
      expect(opened).toMatchObject({ store: 'postgresql', poolSize: 2, location: `postgres://icd10@127.0.0.1:${cluster().port}${new URL(url).pathname}` });
      const { port } = await server.logged('listening');
      const res = await fetch(`http://127.0.0.1:${port as number}/readyz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ready', store: { kind: 'postgresql', writable: true } });
    } finally {
      server.child.kill('SIGTERM');
    }
    expect((await server.exited).code).toBe(0);
    expect(JSON.stringify(server.lines)).not.toContain(new URL(url).password);
  }, 60_000);
});
