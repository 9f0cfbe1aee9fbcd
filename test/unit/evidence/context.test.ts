import { describeContext, mentionIn, overallStatus, passageContext } from '../../../src/evidence/context';
import { sectionsOf } from '../../../src/evidence/sections';
import type { Classification } from '../../../src/model/types';

/** A classification of `text` with one token per word and the given score per word (one label). */
function classificationOf(text: string, scores: Record<string, number>): Classification {
  const words = [...text.matchAll(/\p{L}+|\p{N}+/gu)];
  return {
    probabilities: Float32Array.of(0.9),
    logits: Float32Array.of(2),
    tokenCount: words.length,
    tokenOffsets: Int32Array.from(words.flatMap((w) => [w.index!, w.index! + w[0].length])),
    tokenScores: Float32Array.from(words.map((w) => scores[w[0]] ?? 0)),
    windowCount: 1,
    unalignedTokens: 0,
  } as unknown as Classification;
}

const TEXT = 'A 71-year-old woman with a history of hypertension and HTN control issues.';
const PASSAGE = { start: 0, end: TEXT.length };
const word = (span: { start: number; end: number } | undefined) => (span ? TEXT.slice(span.start, span.end) : undefined);

test('the mention is the strongest word naming the code, even when a context word scores higher', () => {
  const c = classificationOf(TEXT, { woman: 3, hypertension: 1, HTN: 2 });
  expect(word(mentionIn(TEXT, PASSAGE, 0, 'Essential (primary) hypertension', c))).toBe('hypertension');
});

test("without a naming word, the strongest token's word (a synonym the title lacks)", () => {
  const c = classificationOf(TEXT, { woman: 1, HTN: 2 });
  expect(word(mentionIn(TEXT, PASSAGE, 0, 'Hypertensive heart disease', c))).toBe('HTN');
});

test('without token scores, the first word naming the code; none when nothing names it', () => {
  const c = { ...classificationOf(TEXT, {}), tokenScores: undefined };
  expect(word(mentionIn(TEXT, PASSAGE, 0, 'Essential (primary) hypertension', c))).toBe('hypertension');
  expect(mentionIn(TEXT, PASSAGE, 0, 'Pain, unspecified', c)).toBeUndefined();
});

test('the status is about the mention, in its section', () => {
  const note = 'FAMILY HISTORY\nMother with breast cancer.\n\nPAST MEDICAL HISTORY\nAsthma.\n';
  const sections = sectionsOf(note);
  const at = (w: string) => ({ start: note.indexOf(w), end: note.indexOf(w) + w.length });
  const line = (w: string) => ({ start: note.lastIndexOf('\n', note.indexOf(w)) + 1, end: note.indexOf('\n', note.indexOf(w)) });
  const cancer = passageContext(note, line('cancer'), at('cancer'), sections);
  expect(cancer).toMatchObject({ status: 'family', section: { kind: 'family-history', heading: 'FAMILY HISTORY' } });
  const asthma = passageContext(note, line('Asthma'), at('Asthma'), sections);
  expect(asthma).toMatchObject({ status: 'historical', bySection: 'past-history' });
  expect(describeContext(asthma)).toBe('historical (by its section), section "PAST MEDICAL HISTORY"');
  expect(describeContext(undefined)).toBe('status not determined');
});

test.each([
  ['J18.9', ['negated', 'present'], 'present'],
  ['J18.9', ['negated', 'historical'], 'historical'],
  ['J18.9', ['family', 'negated'], 'family'],
  ['Z80.3', ['family'], 'present'],
  ['J18.9', [], undefined],
] as const)('overall status of %s from %j is %s', (code, statuses, expected) => {
  expect(overallStatus(code, statuses)).toBe(expected);
});

test('punctuation tokens are never the mention', () => {
  const text = 'No hematuria.';
  const words = [
    { s: 0, e: 2, score: 0 },
    { s: 3, e: 12, score: 1 },
    { s: 12, e: 13, score: 5 },
  ];
  const c = {
    ...classificationOf(text, {}),
    tokenCount: 3,
    tokenOffsets: Int32Array.from(words.flatMap((w) => [w.s, w.e])),
    tokenScores: Float32Array.from(words.map((w) => w.score)),
  } as Classification;
  const span = mentionIn(text, { start: 0, end: text.length }, 0, 'Pain, unspecified', c)!;
  expect(text.slice(span.start, span.end)).toBe('hematuria');
});
