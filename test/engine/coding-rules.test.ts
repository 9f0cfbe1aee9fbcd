/**
 * The coding-rule case table (test/fixtures/coding/rule-cases.json): suggestion sets and
 * recorded codes → the findings a certified coder expects, on the committed FY2023 code set
 * and the project's integral-symptom table. Every rule is covered, with its exceptions
 * (unrelated codes, Excludes2, conditional notes, symptoms that are not integral).
 */
import cases from '../fixtures/coding/rule-cases.json';
import { RULE_CODES, type RuleFinding } from '../../src/rules/findings';
import { codingRules } from '../helpers/app';

interface Case {
  id: string;
  rule: string;
  suggested: string[];
  recorded?: string[];
  findings?: { rule: string; codes: string[] }[];
  absent?: string[];
  removed?: string[];
  kept?: string[];
  note: string;
}
const table = cases as Case[];

test('the table has at least 60 cases and covers every rule', () => {
  expect(table.length).toBeGreaterThanOrEqual(60);
  for (const rule of RULE_CODES) expect(table.some((c) => c.findings?.some((f) => f.rule === rule))).toBe(true);
});

const codesOf = (f: RuleFinding) => [...f.suggested, ...f.recorded.map((r) => r.code)];

describe.each(table.map((c) => [c.id, c] as const))('%s', (_id, c) => {
  test(c.note, async () => {
    const { rules } = await codingRules();
    const result = rules.check(
      c.suggested.map((code) => ({ code })),
      (c.recorded ?? []).map((code) => ({ code })),
    );
    for (const expected of c.findings ?? []) {
      const found = result.findings.filter((f) => f.rule === expected.rule && expected.codes.every((code) => codesOf(f).includes(code)));
      expect(found.map((f) => f.rule)).toContain(expected.rule);
      for (const f of found) expect(f.text).toMatch(new RegExp(expected.codes.map((x) => x.replace('.', '\\.')).join('|')));
    }
    for (const rule of c.absent ?? []) expect(result.findings.filter((f) => f.rule === rule).map((f) => f.text)).toEqual([]);
    if (c.removed) expect(result.removed.map((r) => r.code).sort()).toEqual([...c.removed].sort());
    if (c.kept) expect(result.suggestions.map((s) => s.code)).toEqual(c.kept);
    // A suggestion a finding touches carries it; nothing removed without a finding.
    for (const s of result.suggestions) expect(s.rules ?? []).toEqual(result.findings.filter((f) => f.suggested.includes(s.code)));
    for (const r of result.removed) expect(result.findings).toContain(r.finding);
  });
});
