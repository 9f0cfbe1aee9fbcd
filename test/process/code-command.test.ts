/**
 * `npm run code` as operators run it (dist/cli/code.js, built by `pretest`), with the default
 * engine (ENGINE=both, the real model, code set and ranker): a run on a few notes of each
 * input form, a bad line as an error record; then a run killed mid-way (SIGKILL) and a torn
 * last line, resumed to completion with every document exactly once; and the codes of every
 * document equal to those of the synchronous `$suggest-conditions` for the same document.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Bundle, Condition } from '@medplum/fhirtypes';
import { DEFAULT_MODEL_DIR, PROJECT_ROOT } from '../../src/paths';
import { serveWithWorkers } from '../helpers/app';
import { documentReference, NOTES_DIR, parametersOf } from '../helpers/resources';

const CLI = path.join(PROJECT_ROOT, 'dist', 'cli', 'code.js');

const TEXTS = [
  readFileSync(path.join(NOTES_DIR, 'discharge-summary.txt'), 'utf8'),
  readFileSync(path.join(NOTES_DIR, 'context.txt'), 'utf8'),
  'Hypertension, well controlled. Type 2 diabetes mellitus without complications.',
  'Acute exacerbation of COPD. Community acquired pneumonia, treated with antibiotics.',
  'Chest pain. Acute inferior ST elevation myocardial infarction. Hyperlipidemia.',
];

type Record = { id: string; line: number; bundle?: Bundle; error?: { resourceType: string } };

const codesOf = (bundle: Bundle) =>
  (bundle.entry ?? [])
    .map((e) => e.resource)
    .filter((r): r is Condition => r?.resourceType === 'Condition')
    .map((c) => c.code!.coding!.find((k) => k.system?.includes('icd-10-cm'))!.code!)
    .sort();

const readRecords = (file: string): Record[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record);

describe('npm run code', () => {
  let dir: string;
  const env = () => ({ PATH: process.env.PATH ?? '', STORE_PATH: path.join(dir, 'store.sqlite'), ANALYSIS_WORKERS: '1', ORT_THREADS: '1' });
  const run = (args: string[]) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: env(), cwd: PROJECT_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    return { child, exited, out: () => stdout, err: () => stderr };
  };

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'code-command-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a few notes: a record per line, Conditions citing their DocumentReference, a bad line as an error record', async () => {
    const input = path.join(dir, 'few.ndjson');
    const output = path.join(dir, 'few.out.ndjson');
    writeFileSync(
      input,
      [
        JSON.stringify(documentReference(TEXTS[0], { id: 'doc-a' })),
        JSON.stringify({ id: 'doc-b', text: TEXTS[2], patient: 'Patient/7' }),
        '{"id": "torn',
        JSON.stringify(parametersOf(documentReference(TEXTS[3], { id: 'doc-c' }))),
        JSON.stringify({ id: 'doc-d', text: TEXTS[4] }),
        JSON.stringify({ resourceType: 'Patient', id: 'p' }),
      ].join('\n') + '\n',
    );
    const cli = run(['--in', input, '--out', output]);
    const { code } = await cli.exited;
    expect(code).toBe(0);
    expect(JSON.parse(cli.out())).toMatchObject({ documents: 6, coded: 4, errors: 2, skipped: 0, transient: 0, interrupted: false });
    // Progress lines on stderr (not a TTY here): counts and rate, never note text.
    expect(cli.err()).toMatch(/6\/6 100% [\d.]+ docs\/s/);
    expect(cli.err()).not.toContain('Hypertension');
    const records = readRecords(output);
    expect(records.map((r) => r.id).sort()).toEqual(['doc-a', 'doc-b', 'doc-c', 'doc-d', 'line:3', 'line:6']);
    for (const r of records.filter((r) => r.id.startsWith('line:'))) expect(r.error?.resourceType).toBe('OperationOutcome');
    const a = records.find((r) => r.id === 'doc-a')!.bundle!;
    const condition = a.entry!.find((e) => e.resource?.resourceType === 'Condition')!.resource as Condition;
    expect(condition.evidence?.[0].detail).toEqual(expect.arrayContaining([expect.objectContaining({ reference: 'DocumentReference/doc-a' })]));
    expect(codesOf(records.find((r) => r.id === 'doc-b')!.bundle!)).toEqual(expect.arrayContaining(['I10']));
  }, 120_000);

  test('killed mid-way and resumed: every document exactly once, codes equal to $suggest-conditions', async () => {
    const N = 60;
    const docs = Array.from({ length: N }, (_, i) => documentReference(`${TEXTS[i % TEXTS.length]}\nNote ${i}.`, { id: `doc-${i}` }));
    const input = path.join(dir, 'many.ndjson');
    const output = path.join(dir, 'many.out.ndjson');
    writeFileSync(
      input,
      docs
        .map((d, i) => (i % 2 ? JSON.stringify(d) : JSON.stringify({ id: d.id, text: `${TEXTS[i % TEXTS.length]}\nNote ${i}.`, patient: 'Patient/1288992' })))
        .join('\n') + '\n',
    );

    const first = run(['--in', input, '--out', output]);
    const linesNow = () => readFileSync(output, 'utf8').split('\n').filter(Boolean).length;
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        try {
          if (linesNow() >= 8) {
            clearInterval(poll);
            first.child.kill('SIGKILL');
            resolve();
          }
        } catch {
          // not created yet
        }
      }, 20);
      void first.exited.then(() => {
        clearInterval(poll);
        reject(new Error('finished before it could be interrupted'));
      });
    });
    expect((await first.exited).signal).toBe('SIGKILL');
    const before = readRecords(output).length;
    expect(before).toBeLessThan(N);
    // As if the kill had come during a write.
    appendFileSync(output, '{"id":"doc-59","line":60,"bundle":{"resourceType":"Bund');

    const second = run(['--in', input, '--out', output]);
    expect((await second.exited).code).toBe(0);
    const summary = JSON.parse(second.out());
    expect(summary).toMatchObject({ documents: N, skipped: before, coded: N - before, errors: 0, transient: 0, repairedTornLine: true });
    const records = readRecords(output);
    expect(records.map((r) => r.id).sort()).toEqual(docs.map((d) => d.id!).sort());

    // The same documents through the service's operation, with the same engine.
    const service = await serveWithWorkers(
      { mode: 'both', modelDir: DEFAULT_MODEL_DIR, intraOpThreads: 1, workers: 1, maxQueue: 64 },
      { engine: 'both', modelDir: DEFAULT_MODEL_DIR },
    );
    try {
      // The codes depend on the note's text alone: each line form is compared with the DocumentReference of the same text.
      let compared = 0;
      for (const doc of docs) {
        const res = await fetch(`${service.base}/fhir/DocumentReference/$suggest-conditions`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/fhir+json' },
          body: JSON.stringify(doc),
        });
        expect(res.status).toBe(200);
        const record = records.find((r) => r.id === doc.id)!;
        expect({ id: doc.id, codes: codesOf(record.bundle!) }).toEqual({ id: doc.id, codes: codesOf((await res.json()) as Bundle) });
        compared += codesOf(record.bundle!).length;
      }
      expect(compared).toBeGreaterThan(N);
    } finally {
      await service.close();
    }
  }, 300_000);

  test('SIGINT: the documents in flight are written, exit 130, and a rerun finishes the file', async () => {
    const N = 200;
    const input = path.join(dir, 'sigint.ndjson');
    const output = path.join(dir, 'sigint.out.ndjson');
    writeFileSync(
      input,
      Array.from({ length: N }, (_, i) => JSON.stringify({ id: `s-${i}`, text: `${TEXTS[i % TEXTS.length]}\nNote ${i}.` })).join('\n') + '\n',
    );
    const first = run(['--in', input, '--out', output]);
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        try {
          if (readFileSync(output, 'utf8').split('\n').filter(Boolean).length >= 4) {
            clearInterval(poll);
            first.child.kill('SIGINT');
            resolve();
          }
        } catch {
          // not created yet
        }
      }, 20);
      void first.exited.then(() => {
        clearInterval(poll);
        reject(new Error('finished before it could be interrupted'));
      });
    });
    expect((await first.exited).code).toBe(130);
    const stopped = JSON.parse(first.out());
    expect(stopped).toMatchObject({ interrupted: true, repairedTornLine: false });
    // Every document it counted is in the output, whole.
    expect(readRecords(output)).toHaveLength(stopped.coded);
    expect(stopped.coded).toBeLessThan(N);
    const second = run(['--in', input, '--out', output]);
    expect((await second.exited).code).toBe(0);
    expect(JSON.parse(second.out())).toMatchObject({ skipped: stopped.coded, coded: N - stopped.coded, repairedTornLine: false });
    expect(
      readRecords(output)
        .map((r) => r.id)
        .sort(),
    ).toEqual(Array.from({ length: N }, (_, i) => `s-${i}`).sort());
  }, 120_000);
});
