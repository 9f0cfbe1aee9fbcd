/**
 * What `npm run build` writes is the service and only the service: no tool, training or
 * generator code in dist/, and nothing read from src/ at run time. The second test runs the
 * compiled server from a copy of the project that has no src/ at all.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';
import { spawnServer } from '../helpers/server-process';

const DIST = path.join(PROJECT_ROOT, 'dist');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

test('dist/ holds no tool, and no compiled file names a path under src/', () => {
  expect(existsSync(path.join(DIST, 'main.js'))).toBe(true);
  for (const dir of ['tools', 'train', 'onnx']) expect(existsSync(path.join(DIST, dir))).toBe(false);
  const naming = filesUnder(DIST)
    .filter((f) => f.endsWith('.js'))
    .filter((f) => /(['"])src(\1|\/)/.test(readFileSync(f, 'utf8')));
  expect(naming.map((f) => path.relative(PROJECT_ROOT, f))).toEqual([]);
});

test('the compiled service runs and answers from a copy of the project without src/', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'icd10-cds-dist-'));
  try {
    for (const entry of ['dist', 'models', 'fhir-profiles', 'package.json'])
      cpSync(path.join(PROJECT_ROOT, entry), path.join(root, entry), { recursive: true });
    symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(root, 'node_modules'));
    const server = spawnServer({ PORT: '0', HOST: '127.0.0.1', AUTH: 'off', STORE_PATH: ':memory:' }, { main: path.join(root, 'dist', 'main.js'), cwd: root });
    try {
      const { port } = await server.logged('listening');
      const body = readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'requests', 'suggest-conditions.json'), 'utf8');
      const res = await fetch(`http://127.0.0.1:${port}/fhir/DocumentReference/$suggest-conditions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/fhir+json' },
        body,
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { resourceType: string }).resourceType).toBe('Bundle');
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    } finally {
      server.child.kill('SIGKILL');
      await server.exited;
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
