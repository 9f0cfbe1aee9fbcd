/**
 * The one use case both edges call: notes in, ranked code suggestions with evidence out.
 *
 * No HTTP, FHIR or CDS types here: edges build Notes and turn Suggestions into their own
 * wire shapes.
 */
import type { AssertionStatus } from './evidence/assertion';
import { DEFAULT_SUPPRESSED, DIAGNOSTIC_SECTIONS, mentionIn, overallStatus, passageContext, type PassageContext } from './evidence/context';
import { occludedPassages } from './evidence/occlusion';
import { passagesOf, type Span } from './evidence/passages';
import { sectionsOf, type Section } from './evidence/sections';
import { supportingPassages } from './evidence/token-evidence';
import type { Classification, Classifier, Prediction } from './model/types';
import type { Note } from './note/note';

/** A passage of a note quoted as evidence. Offsets are UTF-16 indices into `notes[note].text`. */
export interface Evidence {
  note: number;
  start: number;
  end: number;
  text: string;
  support: number;
  /** Assertion status and section of the passage; absent when the code's mention in it could not be located. */
  context?: PassageContext;
}

export interface Suggestion {
  code: string;
  display: string;
  /** Probability from the model, 0–1. */
  score: number;
  threshold: number;
  /** Strongest first: from the model's per-token scores, else by occlusion (evidence/occlusion.ts). */
  evidence: Evidence[];
  /** Indexes of the notes in which the code reached its threshold. */
  notes: number[];
  /** What the evidence as a whole says (overallStatus); absent when no passage's status is known. */
  status?: AssertionStatus;
  /** How it was found: through the Alphabetic Index, by the classifier, or both (absent: the classifier alone, ENGINE=model). */
  source?: 'index' | 'model' | 'both';
  /** The Alphabetic Index path and Tabular steps a coder follows to the code (best mention's). */
  indexPath?: string[];
  /** What the coder should know of how the guidelines shaped it (coded as if established, a combination code, an unspecified default). */
  guidance?: string[];
}

export interface SuggestOptions {
  /**
   * A code whose evidence has only these statuses is not suggested (default negated, family,
   * hypothetical). A code with no located mention is kept: there is nothing to judge it by.
   */
  suppress?: readonly AssertionStatus[];
  /** When given, receives where the time went (ms), added to what it already holds. */
  timings?: SuggestTimings;
}

/** Time spent per stage of suggestConditions, in ms (Server-Timing; never any content). */
export interface SuggestTimings {
  tokenize: number;
  infer: number;
  /** Evidence: passages, occlusion runs, assertion context, ordering. */
  evidence: number;
}

/** Passages quoted per suggestion (part of the result cache's key). */
export const MAX_PASSAGES = 3;

/** One note as the model read it. */
export interface ClassifiedNote {
  /** Its position among the call's notes. */
  index: number;
  note: Note;
  classification: Classification;
  passages: readonly Span[];
  sections: readonly Section[];
}

/**
 * The evidence of one model prediction in one note: the passages that support it most (per-token
 * scores, else occlusion), each with the context of the code's mention in it.
 * @param classifier - the model
 * @param read - the note and its classification
 * @param prediction - the label (index, display)
 */
export async function modelEvidenceOf(classifier: Classifier, read: ClassifiedNote, prediction: Pick<Prediction, 'index' | 'display'>): Promise<Evidence[]> {
  const { note, classification, passages, sections } = read;
  const evidence = (
    classification.tokenScores
      ? supportingPassages(classification, prediction.index, passages, MAX_PASSAGES)
      : await occludedPassages(classifier, note.text, classification, prediction.index, passages, MAX_PASSAGES)
  ).map((p): Evidence => ({
    note: read.index,
    start: p.start,
    end: p.end,
    text: note.text.slice(p.start, p.end),
    support: p.support,
  }));
  for (const e of evidence) {
    const mention = mentionIn(note.text, e, prediction.index, prediction.display, classification);
    if (mention) e.context = passageContext(note.text, e, mention, sections);
  }
  return evidence;
}

/**
 * Classifies each note and merges the codes found: one suggestion per code, with the best
 * score over the notes and evidence from every note that supports it. Codes whose evidence
 * is only negated, about a relative or hypothetical are left out (options.suppress).
 *
 * Order: codes with present evidence in the discharge diagnoses or assessment first (the
 * diagnostic statement is what a coder codes from), then by score.
 * @param notes - decoded documents (usually one discharge summary)
 * @param classifier - the loaded model
 * @param options - statuses that suppress a code
 */
export async function suggestConditions(notes: readonly Note[], classifier: Classifier, options: SuggestOptions = {}): Promise<Suggestion[]> {
  const started = performance.now();
  let classifyMs = 0;
  const suppress = new Set(options.suppress ?? DEFAULT_SUPPRESSED);
  const byCode = new Map<string, Suggestion>();
  for (const [n, note] of notes.entries()) {
    const classifyStarted = performance.now();
    const classification = await classifier.classify(note.text);
    classifyMs += performance.now() - classifyStarted;
    if (options.timings) {
      options.timings.tokenize += classification.timings?.tokenizeMs ?? 0;
      options.timings.infer += classification.timings?.inferMs ?? 0;
    }
    const passages = passagesOf(note.text);
    const sections = sectionsOf(note.text);
    for (const prediction of classifier.predictionsOf(classification)) {
      const evidence = await modelEvidenceOf(classifier, { index: n, note, classification, passages, sections }, prediction);
      const existing = byCode.get(prediction.code);
      if (!existing) {
        byCode.set(prediction.code, {
          code: prediction.code,
          display: prediction.display,
          score: prediction.score,
          threshold: prediction.threshold,
          evidence,
          notes: [n],
        });
      } else {
        existing.score = Math.max(existing.score, prediction.score);
        existing.evidence = [...existing.evidence, ...evidence].sort((a, b) => b.support - a.support).slice(0, MAX_PASSAGES);
        existing.notes.push(n);
      }
    }
  }
  const diagnostic = (s: Suggestion) => s.evidence.some((e) => e.context?.status === 'present' && DIAGNOSTIC_SECTIONS.has(e.context.section?.kind ?? 'other'));
  const result = [...byCode.values()]
    .map((s) => ({
      ...s,
      status: overallStatus(
        s.code,
        s.evidence.flatMap((e) => (e.context ? [e.context.status] : [])),
      ),
    }))
    .filter((s) => !(s.status && suppress.has(s.status)))
    .sort((a, b) => Number(diagnostic(b)) - Number(diagnostic(a)) || b.score - a.score || a.code.localeCompare(b.code));
  if (options.timings) options.timings.evidence += performance.now() - started - classifyMs;
  return result;
}
