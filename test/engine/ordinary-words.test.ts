/**
 * Ordinary words that an Index title is spelt like (test/fixtures/coding/ordinary-words.json):
 * "lumbar puncture", "alcohol consumption", "his", "good condition", "sinus rhythm" and the
 * rest give no code of the condition the Index names by that word (main-terms.tsv and the
 * finder's word rules), while the conditions written in their own words are still found.
 */
import cases from '../fixtures/coding/ordinary-words.json';
import { indexEngine } from '../helpers/engine';

interface Case {
  id: string;
  phrase: string;
  forbidden: string[];
  expected?: string;
  why: string;
}

describe.each((cases as Case[]).map((c) => [c.id, c] as const))('%s', (_id, c) => {
  test(`"${c.phrase}": ${c.why}`, async () => {
    const { codeNote } = await indexEngine();
    const codes = codeNote(c.phrase, 'inpatient').candidates.map((x) => x.code);
    for (const prefix of c.forbidden) expect(codes.filter((code) => code.startsWith(prefix))).toEqual([]);
    if (c.expected) expect(codes).toContain(c.expected);
  });
});
