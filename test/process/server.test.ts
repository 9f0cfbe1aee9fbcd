/**
 * The compiled server as `npm start` runs it (dist/main.js, built by `pretest`): listens on
 * HOST/PORT with the default bundle, answers /healthz, stops cleanly on SIGTERM, and refuses
 * to start with a broken model bundle.
 */
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';
import { spawnServer } from '../helpers/server-process';

// An in-memory store: these tests do not look at it (durability.test.ts does).
const start = (env: Record<string, string>) => spawnServer({ STORE_PATH: ':memory:', ...env });

test('serves on HOST and PORT with the default model, then stops on SIGTERM', async () => {
  const server = start({ PORT: '0', HOST: '127.0.0.1' });
  const listening = await server.logged('listening');
  expect(listening.host).toBe('127.0.0.1');
  const res = await fetch(`http://127.0.0.1:${listening.port}/healthz`);
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ status: 'ok', model: { name: expect.any(String), version: expect.any(String) } });
  server.child.kill('SIGTERM');
  expect((await server.exited).code).toBe(0);
});

test('a broken model bundle: the process exits 1 naming the problem, and never listens', async () => {
  const { child, exited } = start({ PORT: '0', MODEL_DIR: path.join(PROJECT_ROOT, 'test', 'fixtures') });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  expect((await exited).code).toBe(1);
  expect(stderr).toMatch(
    /^icd10-cds failed to start: model bundle file \S*config\.json cannot be read; model bundle file \S*labels\.json cannot be read; model bundle file \S*tokenizer\.json cannot be read/,
  );
  expect(stdout).not.toContain('listening');
});

test('invalid configuration: exits 1 listing the problems', async () => {
  const { child, exited } = start({ PORT: '-1' });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  expect((await exited).code).toBe(1);
  expect(stderr).toContain('PORT must be an integer between 0 and 65535');
});
