/**
 * `npm run fuzz -- [--runs 20000] [--seed N]`: the property-based fuzz test
 * (test/http/fuzz.test.ts) with many more runs than `npm test` gives it, then its status
 * counts as JSON. Exits with jest's status (non-zero when any response broke the property).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../paths';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20000' }, seed: { type: 'string' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error('--runs must be a positive integer');
  process.exit(2);
}
const root = PROJECT_ROOT;
const dir = mkdtempSync(path.join(os.tmpdir(), 'icd10-cds-fuzz-'));
const report = path.join(dir, 'report.json');
const started = Date.now();
const jest = spawnSync(process.execPath, [require.resolve('jest/bin/jest', { paths: [root] }), 'test/http/fuzz.test.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, FUZZ_RUNS: String(runs), FUZZ_REPORT: report, ...(values.seed ? { FUZZ_SEED: values.seed } : {}) },
});
try {
  const summary = JSON.parse(readFileSync(report, 'utf8'));
  console.log(
    JSON.stringify({ command: `npm run fuzz -- --runs ${runs}`, passed: jest.status === 0, wallSeconds: (Date.now() - started) / 1000, ...summary }, null, 2),
  );
} catch {
  console.error('no fuzz report was written');
}
rmSync(dir, { recursive: true, force: true });
process.exit(jest.status ?? 1);
