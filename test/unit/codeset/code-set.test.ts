/**
 * The committed FY2023 code-set bundle (models/icd10cm-2023) as the service loads it: the
 * billable flags, the hierarchy, the notes that apply to a code, 7th characters and the
 * placeholder X, and the note references the coding rules read.
 */
import path from 'node:path';
import { loadCodeSet, referenceMatches, type CodeSet } from '../../../src/codeset/code-set';
import { DEFAULT_CODESET_DIR } from '../../../src/paths';

let codeSet: CodeSet;
beforeAll(async () => {
  codeSet = await loadCodeSet(DEFAULT_CODESET_DIR);
});

test('identity: ICD-10-CM FY2023, effective 2022-10-01 to 2023-09-30', () => {
  expect(codeSet.system).toBe('http://hl7.org/fhir/sid/icd-10-cm');
  expect(codeSet.version).toBe('2023');
  expect(codeSet.manifest.effective).toEqual({ from: '2022-10-01', to: '2023-09-30' });
  expect(path.basename(DEFAULT_CODESET_DIR)).toBe('icd10cm-2023');
});

test('73,639 billable codes (CDC FY2023), and a billable code has no children', () => {
  const billable = codeSet.codes.filter((c) => c.billable);
  expect(billable).toHaveLength(73639);
  expect(codeSet.manifest.counts.billable).toBe(73639);
  for (const c of billable) expect(codeSet.children(c.code)).toHaveLength(0);
});

test('headers are not billable; their billable descendants are listed in Tabular order', () => {
  expect(codeSet.isBillable('E11.2')).toBe(false);
  expect(codeSet.isBillable('E11.22')).toBe(true);
  expect(codeSet.billableDescendants('E11.2')).toEqual(['E11.21', 'E11.22', 'E11.29']);
  expect(codeSet.billableDescendants('E11.22')).toEqual(['E11.22']);
  expect(codeSet.isBillable('I10')).toBe(true);
  expect(codeSet.isBillable('N39')).toBe(false);
});

test('codes are read as written: undotted, lower case, with spaces', () => {
  expect(codeSet.normalize('e1122')).toBe('E11.22');
  expect(codeSet.normalize(' S72.001A ')).toBe('S72.001A');
  expect(codeSet.normalize('E11.99')).toBeUndefined();
  expect(codeSet.exists('U07.1')).toBe(true);
});

test('the hierarchy: nearest ancestor first, up to the category', () => {
  expect(codeSet.ancestors('E11.22')).toEqual(['E11.2', 'E11']);
  expect(codeSet.isAncestor('E11', 'E11.22')).toBe(true);
  expect(codeSet.isAncestor('E11.22', 'E11.22')).toBe(false);
  expect(codeSet.section('E11.22')?.id).toBe('E08-E13');
  expect(codeSet.chapter('E11.22')?.id).toBe('4');
});

test('7th characters: generated with the placeholder X, titled with their meaning; the base code is not billable', () => {
  expect(codeSet.isBillable('S72.001')).toBe(false);
  expect(codeSet.get('S72.001A')).toMatchObject({ billable: true, generated: true, parent: 'S72.001' });
  expect(codeSet.get('S72.001A')!.title).toMatch(/initial encounter for closed fracture$/);
  expect(codeSet.seventhOf('S72.001')?.chars.A).toBe('initial encounter for closed fracture');
  // T36.0X5: six characters with the placeholder, then the 7th.
  expect(codeSet.isBillable('T36.0X5A')).toBe(true);
  expect(codeSet.isBillable('S00.03XA')).toBe(true);
  expect(codeSet.exists('S00.03A')).toBe(false);
  expect(codeSet.seventhOf('E11.22')).toBeUndefined();
});

test('notes apply with their origin: the code, its ancestors, its section, its chapter', () => {
  const additional = codeSet.notesOf('E11.22', 'useAdditionalCode');
  const stage = additional.find((n) => n.from === 'E11.22')!;
  expect(stage.note.text).toMatch(/stage of chronic kidney disease/);
  expect(stage.note.refs).toEqual(['N18.1-N18.6']);
  // Inherited from the category: insulin, Z79.4.
  expect(additional.some((n) => n.from === 'E11' && n.note.refs?.includes('Z79.4'))).toBe(true);
  const excludes = codeSet.notesOf('E11.22', 'excludes1');
  expect(excludes.some((n) => n.from === 'E11' && n.note.refs?.some((r) => referenceMatches('E109', r)))).toBe(true);
  expect(codeSet.notesOf('I12.9', 'useAdditionalCode').some((n) => n.note.refs?.some((r) => codeSet.matches('N18.30', r)))).toBe(true);
});

test('references: a code covers what is below it; a range holds its ends and what is between', () => {
  expect(referenceMatches('N1830', 'N18.1-N18.6')).toBe(true);
  expect(referenceMatches('N186', 'N18.1-N18.6')).toBe(true);
  expect(referenceMatches('N189', 'N18.1-N18.6')).toBe(false);
  expect(referenceMatches('I509', 'I50')).toBe(true);
  expect(referenceMatches('I169', 'I10-I1A')).toBe(true);
  expect(referenceMatches('I1A0', 'I10-I1A')).toBe(true);
  expect(referenceMatches('I20', 'I10-I1A')).toBe(false);
});

test('the Index and the tables are loaded', () => {
  expect(codeSet.index.terms.length).toBeGreaterThan(8000);
  expect(codeSet.index.terms.some((t) => t[0] === 'Pneumonia')).toBe(true);
  expect(codeSet.neoplasm?.columns).toHaveLength(6);
  expect(codeSet.drug?.columns).toHaveLength(6);
});

test('a bundle missing a file is refused with what to do', async () => {
  await expect(loadCodeSet(path.join(__dirname, 'no-such-bundle'))).rejects.toThrow(/lacks .*manifest\.json.*build:codeset/);
});
