/**
 * The one use case both edges call: notes in, ranked code suggestions with evidence out.
 *
 * No HTTP, FHIR or CDS types here: edges build Notes and turn Suggestions into their own
 * wire shapes.
 */
import { passagesOf } from './evidence/passages';
import { supportingPassages } from './evidence/token-evidence';
import type { Classifier } from './model/types';
import type { Note } from './note/note';

/** A passage of a note quoted as evidence. Offsets are UTF-16 indices into `notes[note].text`. */
export interface Evidence {
  note: number;
  start: number;
  end: number;
  text: string;
  support: number;
}

export interface Suggestion {
  code: string;
  display: string;
  /** Probability from the model, 0–1. */
  score: number;
  threshold: number;
  /** Strongest first; empty when the model gives no per-token scores. */
  evidence: Evidence[];
  /** Indexes of the notes in which the code reached its threshold. */
  notes: number[];
}

const MAX_PASSAGES = 3;

/**
 * Classifies each note and merges the codes found: one suggestion per code, with the best
 * score over the notes and evidence from every note that supports it.
 * @param notes - decoded documents (usually one discharge summary)
 * @param classifier - the loaded model
 */
export async function suggestConditions(notes: readonly Note[], classifier: Classifier): Promise<Suggestion[]> {
  const byCode = new Map<string, Suggestion>();
  for (const [n, note] of notes.entries()) {
    const classification = await classifier.classify(note.text);
    const passages = passagesOf(note.text);
    for (const prediction of classifier.predictionsOf(classification)) {
      const evidence = supportingPassages(classification, prediction.index, passages, MAX_PASSAGES).map((p) => ({
        note: n,
        start: p.start,
        end: p.end,
        text: note.text.slice(p.start, p.end),
        support: p.support,
      }));
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
  return [...byCode.values()].sort((a, b) => b.score - a.score || a.code.localeCompare(b.code));
}
