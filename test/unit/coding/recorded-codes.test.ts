import { loadCodeSet, type CodeSet } from '../../../src/codeset/code-set';
import { applyRecordedCodes, isLessSpecific, normalizeIcd10cm, type RecordedCode } from '../../../src/coding/recorded-codes';
import { DEFAULT_CODESET_DIR } from '../../../src/paths';
import type { Suggestion } from '../../../src/suggest';

let codeSet: CodeSet;
beforeAll(async () => {
  codeSet = await loadCodeSet(DEFAULT_CODESET_DIR);
});

const suggestion = (code: string): Suggestion => ({ code, display: `display of ${code}`, score: 0.9, threshold: 0.5, evidence: [], notes: [0] });
const recorded = (code: string, id = code): RecordedCode => ({ code, reference: `Condition/${id}` });

test.each([
  ['I50.23', 'I50.23'],
  ['i5023', 'I50.23'],
  [' I10 ', 'I10'],
  ['S72001A', 'S72.001A'],
  ['T36.0X5A', 'T36.0X5A'],
  ['I50.', undefined],
  ['I5.023', undefined],
  ['I50.23456', undefined],
  ['150.9', undefined],
  ['', undefined],
])('normalizeIcd10cm(%j) = %j', (code, expected) => {
  expect(normalizeIcd10cm(code)).toBe(expected);
});

test.each([
  // (a) ancestor in the code set's hierarchy
  ['I50', 'I50.23', true],
  ['I50.2', 'I50.23', true],
  ['I48.9', 'I48.91', true],
  ['S72.001', 'S72.001A', true],
  // (b) an unspecified code below a common parent, whose words the finer code's titles hold
  ['I50.9', 'I50.23', true],
  ['J18.9', 'J18.1', true],
  ['I48.91', 'I48.92', false],
  ['N39.9', 'N39.0', true],
  // (c) an unspecified code whose Excludes1 lists the specified forms
  ['N39.0', 'N30.00', true],
  ['N39.0', 'N34.1', true],
  ['N39.0', 'N10', false],
  // "without complications" is not "unspecified"
  ['E11.9', 'E11.65', false],
  // not related
  ['I50.23', 'I50.23', false],
  ['I50.23', 'I50.2', false],
  ['I50.23', 'I50', false],
  ['I50.9', 'I50', false],
  ['I48.1', 'I48.91', false],
  ['I50.9', 'I51.9', false],
  ['I10', 'I11.9', false],
  ['J18.9', 'J18', false],
  // codes the year lacks: the code string's prefix
  ['E11.A', 'E11.A1', true],
  ['E11.A', 'E11.9', false],
])('isLessSpecific(%s, %s) = %s', (s, r, expected) => {
  expect(isLessSpecific(codeSet, s, r)).toBe(expected);
});

describe('applyRecordedCodes', () => {
  const cases: [string, string, string[], 'new' | 'dropped' | string[]][] = [
    ['nothing recorded', 'I50.9', [], 'new'],
    ['exact match', 'I10', ['I10'], 'dropped'],
    ['recorded descendant (prefix)', 'I50.2', ['I50.23'], 'dropped'],
    ['recorded descendant of the unspecified code', 'I50.9', ['I50.23'], 'dropped'],
    ['recorded category, suggestion in it', 'J18.9', ['J18'], ['J18']],
    ['recorded unspecified code, finer suggestion', 'I50.23', ['I50.9'], ['I50.9']],
    ['recorded unspecified code, suggestion of another category', 'I51.9', ['I50.9'], 'new'],
    ['several ancestors: closest first', 'I50.23', ['I50', 'I50.9', 'I50.2'], ['I50.2', 'I50', 'I50.9']],
    ['a finer recorded code wins over a coarser one', 'I50.2', ['I50', 'I50.23'], 'dropped'],
    ['siblings are unrelated', 'I48.92', ['I48.91'], 'new'],
    ['recorded UTI of unspecified site, cystitis suggested', 'N30.00', ['N39.0'], ['N39.0']],
    ['cystitis recorded, UTI of unspecified site suggested', 'N39.0', ['N30.00'], 'dropped'],
    ['recorded without complications, a complication suggested', 'E11.65', ['E11.9'], 'new'],
  ];
  test.each(cases)('%s: %s against %j → %j', (_name, code, codes, expected) => {
    const result = applyRecordedCodes(
      [suggestion(code)],
      codes.map((c) => recorded(c)),
      codeSet,
    );
    if (expected === 'dropped') {
      expect(result.suggestions).toEqual([]);
      expect(result.dropped).toHaveLength(1);
    } else if (expected === 'new') {
      expect(result.suggestions).toEqual([suggestion(code)]);
      expect(result.dropped).toEqual([]);
    } else {
      expect(result.suggestions).toHaveLength(1);
      expect(result.suggestions[0].refines!.map((r) => r.code)).toEqual(expected);
    }
  });

  test('order is kept, and each drop names why and the record that covers it', () => {
    const result = applyRecordedCodes(
      [suggestion('I10'), suggestion('J18.9'), suggestion('I50.9'), suggestion('E11.9')],
      [recorded('I10', 'c1'), recorded('I50.23', 'c2'), { code: 'J18', display: 'Pneumonia, unspecified organism' }],
      codeSet,
    );
    expect(result.suggestions.map((s) => [s.code, s.refines])).toEqual([
      ['J18.9', [{ code: 'J18', display: 'Pneumonia, unspecified organism' }]],
      ['E11.9', undefined],
    ]);
    expect(result.dropped).toEqual([
      { code: 'I10', reason: 'recorded', recorded: { code: 'I10', reference: 'Condition/c1' } },
      { code: 'I50.9', reason: 'more-specific-recorded', recorded: { code: 'I50.23', reference: 'Condition/c2' } },
    ]);
  });
});
