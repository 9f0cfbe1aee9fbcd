/**
 * The Index case table (test/fixtures/coding/index-cases.json, written from the FY2023
 * Alphabetic Index with each case's Index path; docs/coding-tables.md): each phrase, coded
 * by the Index engine alone, gives the case's code among its candidates. Cases the engine
 * does not get right yet are listed with why in index-cases-known-gaps.json and run as failing
 * tests, so a fix is noticed.
 */
import cases from '../fixtures/coding/index-cases.json';
import gaps from '../fixtures/coding/index-cases-known-gaps.json';
import { indexEngine } from '../helpers/engine';

interface Case {
  id: string;
  phrase: string;
  code: string;
  path: string;
  kind: string;
}
const known = gaps as Record<string, string>;

test('the table has at least 150 cases, and every kind at least 8', () => {
  expect(cases.length).toBeGreaterThanOrEqual(150);
  const kinds = new Map<string, number>();
  for (const c of cases as Case[]) kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
  for (const n of kinds.values()) expect(n).toBeGreaterThanOrEqual(8);
});

describe.each((cases as Case[]).map((c) => [c.id, c] as const))('%s', (_id, c) => {
  (known[c.id] ? test.failing : test)(`"${c.phrase}" → ${c.code} (${c.path})`, async () => {
    const { codeNote } = await indexEngine();
    expect(codeNote(c.phrase, 'inpatient').candidates.map((x) => x.code)).toContain(c.code);
  });
});

test('every known gap names a case of the table', () => {
  const ids = new Set((cases as Case[]).map((c) => c.id));
  for (const id of Object.keys(known).filter((k) => !k.startsWith('$'))) expect(ids.has(id)).toBe(true);
});
