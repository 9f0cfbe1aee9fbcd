import { applyRecordedCodes, isLessSpecific, normalizeIcd10cm, type RecordedCode } from '../../../src/coding/recorded-codes';
import type { Suggestion } from '../../../src/suggest';

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
  // (a) ancestor: the code string without its dot is a proper prefix
  ['I50', 'I50.23', true],
  ['I50.2', 'I50.23', true],
  ['I48.9', 'I48.91', true],
  ['S72.001', 'S72.001A', true],
  // (b) the category's .9 code is less specific than any other 4+ character code of the category
  ['I50.9', 'I50.23', true],
  ['N39.9', 'N39.0', true],
  ['E11.9', 'E11.65', true],
  // not related
  ['I50.23', 'I50.23', false],
  ['I50.23', 'I50.2', false],
  ['I50.23', 'I50', false],
  ['I50.9', 'I50', false],
  ['I50.9', 'I50.91', true],
  ['I48.91', 'I48.92', false],
  ['I48.1', 'I48.91', false],
  ['I50.9', 'I51.9', false],
  ['I10', 'I11.9', false],
  ['J18.9', 'J18', false],
])('isLessSpecific(%s, %s) = %s', (s, r, expected) => {
  expect(isLessSpecific(s, r)).toBe(expected);
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
  ];
  test.each(cases)('%s: %s against %j → %j', (_name, code, codes, expected) => {
    const result = applyRecordedCodes(
      [suggestion(code)],
      codes.map((c) => recorded(c)),
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
