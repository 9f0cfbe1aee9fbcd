/**
 * Delta coding: the suggestions against the ICD-10-CM codes already recorded on the encounter,
 * with the code set's hierarchy. Pure and synchronous; no HTTP, FHIR or CDS types (edges turn
 * recorded Conditions into RecordedCodes, see fhir/recorded-conditions.ts).
 *
 * Code s is LESS SPECIFIC than code r (s ⊏ r) when, in the loaded code set,
 *   (a) s is an ancestor of r (I50 ⊏ I50.2 ⊏ I50.23, S72.001 ⊏ S72.001A);
 *   (b) s is an unspecified code ("Heart failure, unspecified") under a parent that is an
 *       ancestor of r, and r's title (with its ancestors' below that parent, and the parent's when it
 *       names one condition) holds every word of s's title but "unspecified" (I50.9 ⊏ I50.23,
 *       N39.9 ⊏ N39.0; not I48.91 "Unspecified atrial fibrillation" ⊏ I48.92
 *       "Unspecified atrial flutter", nor E11.9 "without complications" ⊏ E11.65);
 *   (c) s is unspecified or "not specified" and its Excludes1 note lists r among the specified
 *       forms ("urinary tract infection of specified site, such as: cystitis (N30.-)": N39.0 ⊏ N30.00).
 * Codes the year lacks fall back to (a) on the code string.
 * A suggestion s is then, against the recorded codes R:
 *   - dropped when s = r for some r (already recorded),
 *   - dropped when s ⊏ r for some r (a more specific code is already recorded),
 *   - otherwise a refinement of every r with r ⊏ s (closest first: longest common prefix),
 *   - otherwise new.
 */
import type { CodeSet } from '../codeset/code-set';
import { readNotesOf, type RuleFinding } from '../rules/findings';
import type { Suggestion } from '../suggest';

/** A code recorded on the encounter, and the record it comes from. */
export interface RecordedCode {
  /** Dotted, upper case (normalized). */
  code: string;
  display?: string;
  /** Relative reference of the recorded Condition, `Condition/<id>`, when it has an id. */
  reference?: string;
  /** Business identifier of the recorded Condition, when it has no id. */
  identifier?: { system?: string; value?: string };
  /** Where the FHIR request carries it (`Parameters.parameter[2].resource`), for OperationOutcome.issue.expression. */
  expression?: string;
}

/** A suggestion after delta coding: `refines` is present when it refines recorded codes. */
export type DeltaSuggestion = Suggestion & {
  /** Recorded codes this suggestion is more specific than, closest first. */
  refines?: RecordedCode[];
  /** Coding-rule findings that touch it (rules/check-coding.ts). */
  rules?: RuleFinding[];
};

export interface DeltaResult {
  suggestions: DeltaSuggestion[];
  /** Suggestions left out, each with the recorded code that covers it. */
  dropped: { code: string; reason: 'recorded' | 'more-specific-recorded'; recorded: RecordedCode }[];
}

const ICD10CM_CODE = /^([A-Z][0-9][0-9A-Z])(?:\.?([0-9A-Z]{1,4}))?$/;

/**
 * Dotted upper-case form of an ICD-10-CM code (`i5023` → `I50.23`), or undefined when the
 * string is not shaped like one (the dot, if any, must follow the third character).
 * @param code - a code as found in a coding
 */
export function normalizeIcd10cm(code: string): string | undefined {
  const match = ICD10CM_CODE.exec(code.trim().toUpperCase());
  if (!match) return undefined;
  return match[2] ? `${match[1]}.${match[2]}` : match[1];
}

const undotted = (code: string) => code.replace('.', '');

const UNSPECIFIED = /\bunspecified\b/i;
const NOT_SPECIFIED = /\b(unspecified|not specified|NOS)\b/;
const FILLER = new Set(['unspecified', 'of', 'and', 'or', 'with', 'the', 'in', 'to', 'a', 'other', 'type']);
const wordsOf = (title: string) =>
  title
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w && !FILLER.has(w))
    .map((w) => (w.length > 3 && w.endsWith('s') ? w.slice(0, -1) : w));

/**
 * Whether code `s` is less specific than code `r` (rules (a) to (c) above). Both normalized.
 * @param codeSet - the loaded code set
 * @param s - the candidate ancestor
 * @param r - the candidate descendant
 */
export function isLessSpecific(codeSet: CodeSet, s: string, r: string): boolean {
  if (s === r) return false;
  if (!codeSet.exists(s) || !codeSet.exists(r)) {
    const us = undotted(s);
    const ur = undotted(r);
    return ur.length > us.length && ur.startsWith(us);
  }
  if (codeSet.isAncestor(s, r)) return true;
  const entry = codeSet.get(s)!;
  if (UNSPECIFIED.test(entry.title) && entry.parent && codeSet.isAncestor(entry.parent, r)) {
    // r's title and those of its ancestors below the common parent (the parent's own title names s's siblings too).
    const line = [r, ...codeSet.ancestors(r)];
    const titles = new Set(line.slice(0, line.indexOf(entry.parent)).flatMap((c) => wordsOf(codeSet.get(c)?.title ?? '')));
    // A parent that names one condition ("Other disorders of urinary system", not "… fibrillation and … flutter") lends its words.
    const parentTitle = codeSet.get(entry.parent)?.title ?? '';
    if (!/\band\b/i.test(parentTitle)) wordsOf(parentTitle).forEach((w) => titles.add(w));
    if (wordsOf(entry.title).every((w) => titles.has(w))) return true;
  }
  if (NOT_SPECIFIED.test(entry.title)) {
    return readNotesOf(codeSet, s, 'excludes1').some((n) => n.specified && n.refs.some((ref) => codeSet.matches(r, ref)));
  }
  return false;
}

function commonPrefix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

/**
 * Applies the recorded codes to the suggestions (order kept).
 * @param suggestions - ranked suggestions (dotted codes)
 * @param recorded - normalized recorded codes (several records may carry the same code)
 * @param codeSet - the loaded code set (its hierarchy and notes)
 */
export function applyRecordedCodes(suggestions: readonly Suggestion[], recorded: readonly RecordedCode[], codeSet: CodeSet): DeltaResult {
  const result: DeltaResult = { suggestions: [], dropped: [] };
  for (const suggestion of suggestions) {
    const code = normalizeIcd10cm(suggestion.code) ?? suggestion.code;
    const same = recorded.find((r) => r.code === code);
    if (same) {
      result.dropped.push({ code: suggestion.code, reason: 'recorded', recorded: same });
      continue;
    }
    const finer = recorded.find((r) => isLessSpecific(codeSet, code, r.code));
    if (finer) {
      result.dropped.push({ code: suggestion.code, reason: 'more-specific-recorded', recorded: finer });
      continue;
    }
    const u = undotted(code);
    const refines = recorded
      .filter((r) => isLessSpecific(codeSet, r.code, code))
      .map((r, i) => ({ r, i, closeness: commonPrefix(undotted(r.code), u) }))
      .sort((a, b) => b.closeness - a.closeness || a.i - b.i)
      .map(({ r }) => r);
    result.suggestions.push(refines.length > 0 ? { ...suggestion, refines } : suggestion);
  }
  return result;
}
