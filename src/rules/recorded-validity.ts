/**
 * Recorded codes that are not valid for the loaded code-set year: a code that needs a 7th
 * character or a placeholder X (`seventh-character`), a header code (`not-billable`), and a
 * code the year does not have (`not-in-code-set`: deleted, or a later year's). Each finding
 * lists the valid codes the code set offers in its place. The code set holds no conversion
 * table, so a deleted code's successor is named only as the codes under its nearest existing
 * ancestor.
 */
import type { CodeSet } from '../codeset/code-set';
import { codeAndTitle, type CheckedRecord, type RuleFinding } from './findings';

/** Completions listed in a finding; the rest are counted. */
const LISTED = 8;

const listed = (codes: readonly string[]) =>
  codes.length <= LISTED ? codes.join(', ') : `${codes.slice(0, LISTED).join(', ')} and ${codes.length - LISTED} more`;

/** The same code with the placeholder X it lacks ("S00.03A" → "S00.03XA", "T36.05A" → "T36.0X5A"), when the code set has exactly one. */
function withPlaceholder(codeSet: CodeSet, code: string): string | undefined {
  const u = code.replace('.', '');
  if (u.length < 4 || u.length >= 7) return undefined;
  const base = u.slice(0, -1);
  const seventh = u.slice(-1);
  // Every way of inserting the missing Xs after the category.
  const fills = (s: string): string[] => {
    if (s.length === 6) return [s];
    const out: string[] = [];
    for (let i = 3; i <= s.length; i++) out.push(...fills(`${s.slice(0, i)}X${s.slice(i)}`));
    return out;
  };
  const found = [...new Set(fills(base).map((f) => `${f}${seventh}`))].filter((c) => codeSet.isBillable(c));
  return found.length === 1 ? codeSet.normalize(found[0]) : undefined;
}

/** The nearest code above a code the year lacks, found by dropping characters. */
function nearestExisting(codeSet: CodeSet, code: string): string | undefined {
  let u = code.replace('.', '');
  while (u.length > 3) {
    u = u.slice(0, -1);
    const n = codeSet.normalize(u);
    if (n) return n;
  }
  return codeSet.normalize(u);
}

/**
 * @param codeSet - the loaded code set
 * @param record - one recorded ICD-10-CM code
 * @returns the finding, or undefined when the code is billable in the year
 */
export function recordedCodeFinding(codeSet: CodeSet, record: CheckedRecord): RuleFinding | undefined {
  const { code } = record;
  const year = `the FY${codeSet.version} code set`;
  const found = (rule: RuleFinding['rule'], text: string): RuleFinding => ({ rule, suggested: [], recorded: [record], text });
  if (codeSet.isBillable(code)) return undefined;
  if (codeSet.exists(code)) {
    const descendants = codeSet.billableDescendants(code);
    const seventh = codeSet.seventhOf(code);
    // The code itself is complete but for the 7th character: its children are the 7th-character codes.
    const byCharacter = seventh && codeSet.children(code).every((d) => codeSet.get(d)?.generated);
    if (byCharacter) {
      return found(
        'seventh-character',
        `Recorded ${codeAndTitle(codeSet, code)} is incomplete: it needs a 7th character (${Object.entries(seventh.chars)
          .map(([c, meaning]) => `${c} ${meaning}`)
          .join('; ')}). Valid codes: ${listed(descendants)}.`,
      );
    }
    return found(
      'not-billable',
      `Recorded ${codeAndTitle(codeSet, code)} is a header, not a billable code in ${year}. Billable codes under it: ${listed(descendants)}.`,
    );
  }
  const placeholder = withPlaceholder(codeSet, code);
  if (placeholder) {
    return found('seventh-character', `Recorded ${code} lacks its placeholder X: the code is ${codeAndTitle(codeSet, placeholder)}.`);
  }
  const above = nearestExisting(codeSet, code);
  const options = above ? codeSet.billableDescendants(above) : [];
  return found(
    'not-in-code-set',
    `Recorded ${code}${record.display ? ` (${record.display})` : ''} is not in ${year} (effective ${codeSet.manifest.effective.from} to ${codeSet.manifest.effective.to}): ` +
      `it was deleted, or belongs to another year. ${above ? `Billable codes under ${codeAndTitle(codeSet, above)}: ${listed(options)}.` : 'The code set has no code above it.'}`,
  );
}
