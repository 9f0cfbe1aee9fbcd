/**
 * `npm run build:codeset` over a small synthetic Tabular and Index in CDC's XML layout
 * (test/fixtures/codeset): codes, billable flags, 7th characters with the placeholder X, notes
 * with their references, Index terms with nonessential modifiers and see references; the same
 * input gives the same bytes. With ICD10CM_DIR (the folder holding CDC's fy2023 and
 * fy2026-april releases, e.g. ../shared/data/icd10cm) the committed FY2023 bundle is rebuilt
 * and compared byte for byte.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCodeSet } from '../../../src/codeset/code-set';
import { DEFAULT_CODESET_DIR } from '../../../src/paths';
import { buildCodeSet, referencesOf } from '../../../src/tools/build-codeset';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'codeset');
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'codeset-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const build = (out: string) => buildCodeSet({ tabular: path.join(FIXTURES, 'tabular.xml'), index: path.join(FIXTURES, 'index.xml'), out });
const bytesOf = (dir: string) => Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(path.join(dir, f))]));

test('codes, billable flags and 7th characters from the Tabular', async () => {
  const out = tempDir();
  const manifest = build(out);
  expect(manifest).toMatchObject({ version: '2099', effective: { from: '2098-10-01', to: '2099-09-30' } });
  const codeSet = await loadCodeSet(out);
  expect(codeSet.isBillable('E11')).toBe(false);
  expect(codeSet.isBillable('E11.22')).toBe(true);
  expect(codeSet.isBillable('S72.001')).toBe(false);
  expect(codeSet.get('S72.001D')).toMatchObject({
    billable: true,
    generated: true,
    title: 'Fracture of unspecified part of neck of right femur, subsequent encounter',
  });
  // Fewer than six characters: the placeholder X fills up to the sixth.
  expect(codeSet.isBillable('S72.9XXA')).toBe(true);
  expect(codeSet.exists('S72.9A')).toBe(false);
  expect(manifest.counts).toMatchObject({ billable: 3 + 6, generatedSeventhCharacter: 6 });
});

test('notes keep their text and references, and apply to the codes below them', async () => {
  const out = tempDir();
  build(out);
  const codeSet = await loadCodeSet(out);
  expect(codeSet.notesOf('E11.22', 'useAdditionalCode').map((n) => [n.from, n.note.refs])).toEqual([
    ['E11.22', ['N18.1-N18.6']],
    ['E11', ['Z79.4']],
  ]);
  expect(codeSet.notesOf('E11.9', 'excludes1')[0].note).toEqual({ text: 'type 1 sugar disorder (E10.-)', refs: ['E10'] });
});

test('the Index: essential words apart from nonessential modifiers, codes, see references', async () => {
  const out = tempDir();
  build(out);
  const { index } = await loadCodeSet(out);
  const disorder = index.terms.find((t) => t[0] === 'Disorder')!;
  expect(disorder[1]).toEqual(['(of)']);
  expect(disorder[3][0][2]).toEqual({ see: 'Sugar disorder' });
  const fracture = index.terms.find((t) => t[0] === 'Fracture, traumatic')!;
  expect(fracture[3][0][2].code).toBe('S72.9-');
});

test('the same input gives the same bytes', () => {
  const a = tempDir();
  const b = tempDir();
  build(a);
  build(b);
  expect(bytesOf(b)).toEqual(bytesOf(a));
});

test('note references: codes, dashes and ranges as written', () => {
  expect(referencesOf('hypertensive chronic kidney disease (I12.-, I13.-)')).toEqual(['I12', 'I13']);
  expect(referencesOf('stage of chronic kidney disease (N18.1-N18.6)')).toEqual(['N18.1-N18.6']);
  expect(referencesOf('any associated condition')).toEqual([]);
});

const cdc = process.env.ICD10CM_DIR;
(cdc ? test : test.skip)(
  'rebuilding FY2023 from CDC files gives the committed bundle byte for byte (ICD10CM_DIR)',
  () => {
    const out = tempDir();
    const file = (...p: string[]) => path.join(cdc!, ...p);
    buildCodeSet({
      tabular: file('fy2023', 'icd10cm_tabular_2023.xml.gz'),
      index: file('fy2023', 'icd10cm_index_2023.xml.gz'),
      neoplasm: file('fy2026-april', 'icd10cm-neoplasm-April-1-2026-XML.xml.gz'),
      drug: file('fy2026-april', 'icd10cm-drug-April-1-2026-XML.xml.gz'),
      eindex: file('fy2026-april', 'icd10cm-eindex-April-1-2026-XML.xml.gz'),
      out,
    });
    expect(bytesOf(out)).toEqual(bytesOf(DEFAULT_CODESET_DIR));
  },
  120_000,
);
