/**
 * Delta coding: the model's suggestions against the ICD-10-CM codes already recorded on the
 * encounter. Pure and synchronous; no HTTP, FHIR or CDS types (edges turn recorded
 * Conditions into RecordedCodes, see fhir/recorded-conditions.ts).
 *
 * No ICD-10-CM code table is available at run time, so the rule uses the structure of the
 * code string only. With u(c) = the code without its dot, and cat(c) = its first three
 * characters (the category), code s is LESS SPECIFIC than code r (s ⊏ r) when
 *   (a) u(r) starts with u(s) and is longer (an ancestor: I50 ⊏ I50.2 ⊏ I50.23), or
 *   (b) s is the category's 4th-character `.9` code (u(s) = cat(s) + "9") and r is another
 *       code of the same category with at least four characters that does not start with it
 *       (the unspecified code: I50.9 ⊏ I50.23, N39.9 ⊏ N39.0).
 * A suggestion s is then, against the recorded codes R:
 *   - dropped when u(s) = u(r) for some r (already recorded),
 *   - dropped when s ⊏ r for some r (a more specific code is already recorded),
 *   - otherwise a refinement of every r with r ⊏ s (closest first: longest common prefix),
 *   - otherwise new.
 * Rule (b) follows the ICD-10 convention that `.9` at the 4th character is "unspecified"; it
 * is deliberately limited to that level (I48.91 and I48.92 are siblings, not refinements) and
 * is an approximation where a category uses `.9` otherwise (E11.9 "without complications":
 * E11.65 counts as its refinement), and misses unspecified codes not ending in 9 (N39.0).
 */
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
}

/** A suggestion after delta coding: `refines` is present when it refines recorded codes. */
export type DeltaSuggestion = Suggestion & {
  /** Recorded codes this suggestion is more specific than, closest first. */
  refines?: RecordedCode[];
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

/**
 * Whether code `s` is less specific than code `r` (rules (a) and (b) above). Both normalized.
 * @param s - the candidate ancestor
 * @param r - the candidate descendant
 */
export function isLessSpecific(s: string, r: string): boolean {
  const us = undotted(s);
  const ur = undotted(r);
  if (ur.length > us.length && ur.startsWith(us)) return true;
  const category = us.slice(0, 3);
  return us === `${category}9` && ur.startsWith(category) && ur.length >= 4 && ur[3] !== '9';
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
 */
export function applyRecordedCodes(suggestions: readonly Suggestion[], recorded: readonly RecordedCode[]): DeltaResult {
  const result: DeltaResult = { suggestions: [], dropped: [] };
  for (const suggestion of suggestions) {
    const code = normalizeIcd10cm(suggestion.code) ?? suggestion.code;
    const same = recorded.find((r) => r.code === code);
    if (same) {
      result.dropped.push({ code: suggestion.code, reason: 'recorded', recorded: same });
      continue;
    }
    const finer = recorded.find((r) => isLessSpecific(code, r.code));
    if (finer) {
      result.dropped.push({ code: suggestion.code, reason: 'more-specific-recorded', recorded: finer });
      continue;
    }
    const u = undotted(code);
    const refines = recorded
      .filter((r) => isLessSpecific(r.code, code))
      .map((r, i) => ({ r, i, closeness: commonPrefix(undotted(r.code), u) }))
      .sort((a, b) => b.closeness - a.closeness || a.i - b.i)
      .map(({ r }) => r);
    result.suggestions.push(refines.length > 0 ? { ...suggestion, refines } : suggestion);
  }
  return result;
}
