/**
 * Authentication as `npm start` runs it (dist/main.js, built by `pretest`): with nothing
 * configured the service starts, warns and refuses protected calls; AUTH=off warns; a bad
 * CDS_CLIENTS file stops the start with the list of its problems.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';
import { spawnServer } from '../helpers/server-process';

const HOOK_REQUEST = path.join(PROJECT_ROOT, 'test', 'fixtures', 'requests', 'encounter-discharge.json');

const start = (env: Record<string, string>) => spawnServer({ STORE_PATH: ':memory:', ...env });

test('nothing configured: starts, warns, discovery answers, a service call is refused 401', async () => {
  const server = start({ PORT: '0' });
  await server.logged('listening');
  const { lines } = server;
  const warnings = lines.filter((l) => l.level === 40).map((l) => l.msg);
  expect(warnings).toEqual(
    expect.arrayContaining([
      expect.stringContaining('no trusted CDS clients (CDS_CLIENTS)'),
      expect.stringContaining('neither CDS_CLIENTS nor FHIR_TOKENS is set'),
    ]),
  );
  const base = `http://127.0.0.1:${lines.find((l) => l.msg === 'listening')!.port}`;
  expect((await fetch(`${base}/cds-services`)).status).toBe(200);
  const res = await fetch(`${base}/cds-services/icd10cm-suggestions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: readFileSync(HOOK_REQUEST),
  });
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toBe('Bearer');
  server.child.kill('SIGTERM');
  expect((await server.exited).code).toBe(0);
});

test('AUTH=off: warns at start-up', async () => {
  const server = start({ PORT: '0', AUTH: 'off' });
  await server.logged('listening');
  expect(server.lines.some((l) => l.level === 40 && String(l.msg).startsWith('AUTH=off: every endpoint accepts calls without authentication'))).toBe(true);
  server.child.kill('SIGTERM');
  expect((await server.exited).code).toBe(0);
});

test('an invalid CDS_CLIENTS file: exits 1 listing its problems', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'icd10-cds-clients-'));
  try {
    const file = path.join(dir, 'clients.json');
    writeFileSync(file, JSON.stringify([{ iss: 'https://ehr.example.org', jku: 'http://ehr.example.org/jwks' }, { iss: 'https://b.example.org' }]));
    const { child, exited } = start({ PORT: '0', CDS_CLIENTS: file });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    expect((await exited).code).toBe(1);
    expect(stderr).toContain('CDS_CLIENTS[0].jku must be an https URL (http only on localhost)');
    expect(stderr).toContain('CDS_CLIENTS[1] needs "jwks" or "jku" (or both)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
