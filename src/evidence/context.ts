/**
 * Clinical context of a code's evidence: which words of a passage the code rests on (the
 * mention), what the passage says about it (assertion status), the section it sits in, and
 * whether anything left supports coding it.
 */
import type { Classification } from '../model/types';
import { assertionInContext, sectionAt, type Section, type SectionKind } from './sections';
import type { AssertionStatus } from './assertion';
import type { Span } from './passages';

/** What a quoted passage says about the code's mention. */
export interface PassageContext {
  status: AssertionStatus;
  /** The mention the status is about: UTF-16 offsets into the note. */
  mention: Span;
  /** The trigger phrase that decided a status other than present. */
  trigger?: string;
  /** Set when the section (not a trigger) decided the status. */
  bySection?: SectionKind;
  section?: { kind: SectionKind; heading: string };
}

/**
 * Statuses that never support a code on their own (configurable, see config.ts): the patient
 * does not have it, a relative does, or it may happen later.
 */
export const DEFAULT_SUPPRESSED: readonly AssertionStatus[] = ['negated', 'family', 'hypothetical'];

// Z80–Z84 are "family history of …": the relatives' condition is exactly what supports them.
const FAMILY_HISTORY_CODE = /^Z8[0-4]/;

/** Statuses from the most to the least codable, for picking a suggestion's overall status. */
const CODABILITY: readonly AssertionStatus[] = ['present', 'uncertain', 'historical', 'hypothetical', 'family', 'negated'];

const WORD_CHAR = /[\p{L}\p{N}]/u;

/** The word (letters and digits) around UTF-16 offset range [start, end) of `text`. */
function wordAround(text: string, start: number, end: number): Span {
  let s = start;
  let e = Math.max(end, start + 1);
  while (s > 0 && WORD_CHAR.test(text[s - 1])) s--;
  while (e < text.length && WORD_CHAR.test(text[e])) e++;
  return { start: s, end: Math.min(e, text.length) };
}

/**
 * The mention of a code in a passage: the word holding the token that adds most to the
 * code's score there (the model's own reading), else the first word of the code's display
 * text (five or more letters, compared on their first five) found in the passage, else none.
 * @returns UTF-16 offsets into the note, or undefined when no mention can be located
 */
export function mentionIn(
  text: string,
  passage: Span,
  labelIndex: number,
  display: string,
  classification: Classification,
): Span | undefined {
  const { tokenScores, tokenOffsets, tokenCount } = classification;
  if (tokenScores) {
    const labels = tokenScores.length / Math.max(1, tokenCount);
    let best = -1;
    let bestScore = 0;
    for (let t = 0; t < tokenCount; t++) {
      const start = tokenOffsets[2 * t];
      if (start < passage.start || start >= passage.end) continue;
      const score = tokenScores[t * labels + labelIndex];
      if (score > bestScore) {
        best = t;
        bestScore = score;
      }
    }
    if (best >= 0) return wordAround(text, tokenOffsets[2 * best], tokenOffsets[2 * best + 1]);
  }
  const stems = [...display.toLowerCase().matchAll(/\p{L}{5,}/gu)].map((m) => m[0].slice(0, 5))
    .filter((w) => !['unspe', 'other', 'witho'].includes(w));
  const slice = text.slice(passage.start, passage.end).toLowerCase();
  for (const word of slice.matchAll(/\p{L}{5,}/gu)) {
    if (stems.includes(word[0].slice(0, 5))) {
      const start = passage.start + word.index!;
      return { start, end: start + word[0].length };
    }
  }
  return undefined;
}

/**
 * The context of one quoted passage.
 * @param text - the note
 * @param passage - the quoted passage (note offsets)
 * @param mention - from mentionIn
 * @param sections - sectionsOf(text)
 */
export function passageContext(text: string, passage: Span, mention: Span, sections: readonly Section[]): PassageContext {
  const section = sectionAt(sections, passage.start);
  const assertion = assertionInContext(
    text.slice(passage.start, passage.end),
    { start: mention.start - passage.start, end: mention.end - passage.start },
    section?.kind,
  );
  return {
    status: assertion.status,
    mention,
    ...(assertion.trigger ? { trigger: assertion.trigger.text } : {}),
    ...(assertion.bySection ? { bySection: assertion.bySection } : {}),
    ...(section ? { section: { kind: section.kind, heading: text.slice(section.heading.start, section.heading.end) } } : {}),
  };
}

/**
 * The status a code's evidence as a whole supports: the most codable one among its passages
 * (one present mention outweighs a negated one elsewhere). For family-history codes (Z80–Z84)
 * a relative's condition counts as present.
 * @param code - the suggested code
 * @param statuses - of its quoted passages whose mention was located
 * @returns undefined when no status is known
 */
export function overallStatus(code: string, statuses: readonly AssertionStatus[]): AssertionStatus | undefined {
  const effective = statuses.map((s) => (s === 'family' && FAMILY_HISTORY_CODE.test(code) ? 'present' : s));
  return CODABILITY.find((s) => effective.includes(s));
}

/** Discharge diagnoses and the assessment state what was treated: their evidence ranks first. */
export const DIAGNOSTIC_SECTIONS: ReadonlySet<SectionKind> = new Set(['diagnoses', 'assessment-plan']);

/**
 * The context in words, for people: `negated ("no evidence of"), section "Past Medical
 * History"`. Plain text: edges escape it for their format.
 */
export function describeContext(context: PassageContext | undefined): string {
  if (!context) return 'status not determined';
  const status = context.trigger ? `${context.status} ("${context.trigger}")` : context.bySection && context.status !== 'present'
    ? `${context.status} (by its section)`
    : context.status;
  return context.section ? `${status}, section "${context.section.heading}"` : status;
}
