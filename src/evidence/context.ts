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

/** First five letters of each word of five or more letters in a code's title ("unspecified" and the like left out). */
function titleStems(display: string): Set<string> {
  return new Set(
    [...display.toLowerCase().matchAll(/\p{L}{5,}/gu)].map((m) => m[0].slice(0, 5)).filter((w) => !['unspe', 'other', 'witho', 'organ', 'speci'].includes(w)),
  );
}

/**
 * The mention of a code in a passage, the word an assertion is judged about:
 * 1. among the words naming the code (sharing their first five letters with a word of its
 *    title), the one whose token adds most to the code's score;
 * 2. else the word holding the token that adds most to the code's score (the model's reading:
 *    a synonym or an abbreviation the title does not contain);
 * 3. without token scores, the first word naming the code.
 * Naming words come first because attention also rewards context words ("woman", "history"),
 * and the status of "a history of hypertension" is about "hypertension", not "woman".
 * @returns UTF-16 offsets into the note, or undefined when no mention can be located
 */
export function mentionIn(text: string, passage: Span, labelIndex: number, display: string, classification: Classification): Span | undefined {
  const stems = titleStems(display);
  const names = (word: Span) => {
    const w = text.slice(word.start, word.end).toLowerCase();
    return w.length >= 5 && stems.has(w.slice(0, 5));
  };
  const { tokenScores, tokenOffsets, tokenCount } = classification;
  if (tokenScores) {
    const labels = tokenScores.length / Math.max(1, tokenCount);
    let best: { word: Span; score: number } | undefined;
    let bestNaming: { word: Span; score: number } | undefined;
    for (let t = 0; t < tokenCount; t++) {
      const start = tokenOffsets[2 * t];
      if (start < passage.start || start >= passage.end) continue;
      const score = tokenScores[t * labels + labelIndex];
      // Punctuation is not a mention (and would widen to the word before it).
      if (!(score > 0) || !WORD_CHAR.test(text.slice(start, tokenOffsets[2 * t + 1]))) continue;
      const word = wordAround(text, start, tokenOffsets[2 * t + 1]);
      if (!best || score > best.score) best = { word, score };
      if (names(word) && (!bestNaming || score > bestNaming.score)) bestNaming = { word, score };
    }
    if (bestNaming ?? best) return (bestNaming ?? best)!.word;
  }
  for (const word of text.slice(passage.start, passage.end).matchAll(/\p{L}{5,}/gu)) {
    const start = passage.start + word.index!;
    if (names({ start, end: start + word[0].length })) return { start, end: start + word[0].length };
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
  const status = context.trigger
    ? `${context.status} ("${context.trigger}")`
    : context.bySection && context.status !== 'present'
      ? `${context.status} (by its section)`
      : context.status;
  return context.section ? `${status}, section "${context.section.heading}"` : status;
}
