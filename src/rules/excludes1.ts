/**
 * Excludes1 (ICD-10-CM Official Guidelines I.A.12.a): two codes that are not reported
 * together. Checked between suggestions, and between a suggestion and a recorded code; a pair
 * of recorded codes is the EHR's own business. Since FY2017 an Excludes1 pair may be reported
 * together when the two conditions are unrelated, which only the coder can judge: a conflict
 * is a warning quoting the note, never a silent drop.
 */
import type { CodeSet } from '../codeset/code-set';
import { codeAndTitle, covers, printedAt, readNotesOf, type CheckedRecord, type RuleFinding } from './findings';

/**
 * @param codeSet - the loaded code set
 * @param suggested - suggested codes, ranked
 * @param recorded - recorded codes that exist in the code set
 */
export function excludes1Findings(codeSet: CodeSet, suggested: readonly string[], recorded: readonly CheckedRecord[]): RuleFinding[] {
  const findings: RuleFinding[] = [];
  const all = [...suggested.map((code) => ({ code, record: undefined as CheckedRecord | undefined })), ...recorded.map((r) => ({ code: r.code, record: r }))];
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      const a = all[i];
      const b = all[j];
      if (a.record && b.record) continue;
      if (a.code === b.code) continue;
      // The notes of each side that name the other (either may carry it).
      const quoted = [
        ...readNotesOf(codeSet, a.code, 'excludes1')
          .filter((n) => covers(codeSet, n.refs, b.code))
          .map((n) => `Excludes1 ${printedAt(n.from)}: "${n.text}"`),
        ...readNotesOf(codeSet, b.code, 'excludes1')
          .filter((n) => covers(codeSet, n.refs, a.code))
          .map((n) => `Excludes1 ${printedAt(n.from)}: "${n.text}"`),
      ];
      if (quoted.length === 0) continue;
      const name = (x: typeof a) => `${x.record ? 'recorded ' : ''}${codeAndTitle(codeSet, x.code)}`;
      findings.push({
        rule: 'excludes1',
        suggested: [a, b].filter((x) => !x.record).map((x) => x.code),
        recorded: [a, b].flatMap((x) => (x.record ? [x.record] : [])),
        text:
          `${name(a)} and ${name(b)} are not coded together: ${[...new Set(quoted)].join('; ')}. ` +
          'Keep both only if the two conditions are unrelated (Official Guidelines I.A.12.a); otherwise choose one.',
      });
    }
  }
  return findings;
}
