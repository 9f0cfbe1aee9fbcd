/**
 * Where a card's evidence is in the note: passages read from the suggested Condition in the
 * card's `create` action, converted from Unicode code points (the unit the service publishes,
 * README "The suggested Condition") to UTF-16 indices, and the note cut into segments for
 * <mark> elements. Pure functions on plain JSON; imports nothing (unit-tested under Node).
 */

export const DERIVATION_REFERENCE = 'http://hl7.org/fhir/StructureDefinition/derivation-reference';
export const ICD10CM_SYSTEM = 'http://hl7.org/fhir/sid/icd-10-cm';

export const STATUSES = ['present', 'negated', 'historical', 'family', 'hypothetical', 'uncertain'] as const;
export type Status = (typeof STATUSES)[number] | 'undetermined';

/** One quoted passage of one card. */
export interface Passage {
  /** Page-wide id, e.g. "c2p1" (card 2, passage 1). */
  id: string;
  card: number;
  /** Position among the card's passages (0-based). */
  index: number;
  code: string;
  /** UTF-16 indices into the note, end exclusive. */
  start: number;
  end: number;
  status: Status;
  /** How the service described the context, e.g. `historical ("history of"), section "PMH"`. */
  context: string;
}

/** What a card's Condition says about its evidence. */
export interface CardEvidence {
  code: string;
  passages: Passage[];
  /** Passages that could not be placed in this note (out of range, another document). */
  unplaced: number;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * UTF-16 index of every code point boundary: `result[k]` is where code point `k` starts, and
 * `result[n]` is `text.length`.
 * @param text - the decoded note
 */
export function codePointBoundaries(text: string): number[] {
  const out: number[] = [];
  let i = 0;
  for (const ch of text) {
    out.push(i);
    i += ch.length;
  }
  out.push(i);
  return out;
}

/**
 * The status a Condition note gives a passage: `Source text: "…" (historical ("history of"), …)`.
 * The quoted text may itself hold `" (`, so the last such match wins (the context follows the quote).
 * @param text - Condition.note[].text
 */
export function statusOfNote(text: string): { status: Status; context: string } | undefined {
  const m = /^Source text: "[\s\S]*" \(((present|negated|historical|family|hypothetical|uncertain|status not determined)[\s\S]*)\)$/.exec(text);
  if (!m) return undefined;
  const status = m[2] === 'status not determined' ? 'undetermined' : (m[2] as Status);
  // Condition notes escape Markdown inline syntax (src/fhir/markdown.ts escapeMarkdownInline).
  return { status, context: m[1].replace(/\\([\\`*_[\]<>&~|!])/g, '$1') };
}

/**
 * The code and passages of one card.
 * @param card - a card from the service (untrusted JSON)
 * @param cardIndex - its position in the response
 * @param boundaries - codePointBoundaries(note)
 * @param documentRef - the reference of the DocumentReference the page sent, e.g. "DocumentReference/review-note"
 */
export function evidenceOf(card: unknown, cardIndex: number, boundaries: readonly number[], documentRef: string): CardEvidence {
  const action = arr(obj(arr(obj(card)?.suggestions)[0])?.actions)
    .map(obj)
    .find((a) => a?.type === 'create');
  const condition = obj(action?.resource);
  if (condition?.resourceType !== 'Condition') return { code: '', passages: [], unplaced: 0 };
  const coding = arr(obj(condition.code)?.coding)
    .map(obj)
    .find((c) => c?.system === ICD10CM_SYSTEM);
  const code = typeof coding?.code === 'string' ? coding.code : '';
  const notes = arr(condition.note)
    .map((n) => obj(n)?.text)
    .filter((t): t is string => typeof t === 'string')
    .map(statusOfNote)
    .filter((s) => s !== undefined);
  const derivations = arr(condition.extension)
    .map(obj)
    .filter((e) => e?.url === DERIVATION_REFERENCE);
  const codePoints = boundaries.length - 1;
  const passages: Passage[] = [];
  let unplaced = 0;
  derivations.forEach((d, index) => {
    // The service writes one "Source text" note per derivation-reference, in the same order.
    const parts = new Map(
      arr(d?.extension)
        .map(obj)
        .map((p) => [p?.url, p] as const),
    );
    const offset = parts.get('offset')?.valueInteger;
    const length = parts.get('length')?.valueInteger;
    const reference = obj(parts.get('reference')?.valueReference)?.reference;
    if (
      !Number.isInteger(offset) ||
      !Number.isInteger(length) ||
      (offset as number) < 0 ||
      (length as number) < 0 ||
      (offset as number) + (length as number) > codePoints ||
      (reference !== undefined && reference !== documentRef)
    ) {
      unplaced++;
      return;
    }
    const note = notes[index];
    passages.push({
      id: `c${cardIndex}p${index}`,
      card: cardIndex,
      index,
      code,
      start: boundaries[offset as number],
      end: boundaries[(offset as number) + (length as number)],
      status: note?.status ?? 'undetermined',
      context: note?.context ?? 'status not determined',
    });
  });
  return { code, passages, unplaced };
}

/** A piece of the note: plain text (no passages) or one <mark> (the passages covering it). */
export interface Segment {
  start: number;
  end: number;
  passages: string[];
}

/**
 * Cuts the note at every passage boundary. Identical passages of several cards share one
 * segment; partly overlapping ones split into several.
 * @param length - note length (UTF-16)
 * @param passages - all cards' passages
 */
export function segmentsOf(length: number, passages: readonly Pick<Passage, 'id' | 'start' | 'end'>[]): Segment[] {
  const cuts = [...new Set([0, length, ...passages.flatMap((p) => [p.start, p.end])])].sort((a, b) => a - b);
  const segments: Segment[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [start, end] = [cuts[i], cuts[i + 1]];
    if (start === end) continue;
    segments.push({ start, end, passages: passages.filter((p) => p.start <= start && p.end >= end).map((p) => p.id) });
  }
  return segments;
}
