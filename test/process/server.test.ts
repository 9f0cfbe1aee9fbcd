/**
 * The compiled server as `npm start` runs it (dist/main.js, built by `pretest`): listens on
 * HOST/PORT with the default bundle, answers /healthz, stops cleanly on SIGTERM, and refuses
 * to start with a broken model bundle.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config';

const MAIN = path.join(PROJECT_ROOT, 'dist', 'main.js');

function start(env: Record<string, string>): ChildProcessWithoutNullStreams {
  // An in-memory store: these tests do not look at it (durability.test.ts does).
  return spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', STORE_PATH: ':memory:', ...env }, cwd: PROJECT_ROOT });
}

/** Resolves with the JSON log line matching `msg`, or rejects when the process exits first. */
function waitForLog(child: ChildProcessWithoutNullStreams, msg: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (const line of buffer.split('\n')) {
        try {
          const entry = JSON.parse(line);
          if (entry.msg === msg) resolve(entry);
        } catch { /* partial line */ }
      }
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code}`)));
  });
}

const exitOf = (child: ChildProcessWithoutNullStreams) => new Promise<number | null>((resolve) => child.on('exit', resolve));

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error('dist/main.js is missing: run `npm run build` (npm test does it in pretest)');
});

test('serves on HOST and PORT with the default model, then stops on SIGTERM', async () => {
  const child = start({ PORT: '0', HOST: '127.0.0.1' });
  const exited = exitOf(child);
  const listening = await waitForLog(child, 'listening');
  expect(listening.host).toBe('127.0.0.1');
  const res = await fetch(`http://127.0.0.1:${listening.port}/healthz`);
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ status: 'ok', model: { name: expect.any(String), version: expect.any(String) } });
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
});

test('a broken model bundle: the process exits 1 naming the problem, and never listens', async () => {
  const child = start({ PORT: '0', MODEL_DIR: path.join(PROJECT_ROOT, 'test', 'fixtures') });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  expect(await exitOf(child)).toBe(1);
  expect(stderr).toMatch(/^icd10-cds failed to start: model bundle file \S*config\.json cannot be read; model bundle file \S*labels\.json cannot be read; model bundle file \S*tokenizer\.json cannot be read/);
  expect(stdout).not.toContain('listening');
});

test('invalid configuration: exits 1 listing the problems', async () => {
  const child = start({ PORT: '-1' });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  expect(await exitOf(child)).toBe(1);
  expect(stderr).toContain('PORT must be an integer between 0 and 65535');
});
