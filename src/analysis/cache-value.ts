/**
 * The result cache's value: suggestions with every piece of note text replaced by offsets.
 *
 * A cached row is keyed by the note's SHA-256 and would otherwise hold quoted passages,
 * trigger phrases and section headings (note text, i.e. PHI at rest, which the audit trail
 * deliberately never stores). So the value keeps offsets only, the same kind of data the
 * audit already holds (codes, scores, offsets, statuses), and the quotes are rebuilt from the
 * note of the call that hits the cache: the key guarantees it is the same text.
 */
import type { PassageContext } from '../evidence/context';
import type { Note } from '../note/note';
import type { Evidence, Suggestion } from '../suggest';

type Range = [start: number, end: number];

interface CachedContext extends Omit<PassageContext, 'trigger' | 'section'> {
  trigger?: Range;
  section?: { kind: NonNullable<PassageContext['section']>['kind']; heading: Range };
}
interface CachedEvidence extends Omit<Evidence, 'text' | 'context'> {
  context?: CachedContext;
}
interface CachedSuggestion extends Omit<Suggestion, 'evidence'> {
  evidence: CachedEvidence[];
}

/** Where `text` occurs in `note` (any occurrence reproduces it), preferring one at or after `near`. */
function rangeOf(note: string, text: string, near: number): Range | undefined {
  let at = note.indexOf(text, near);
  if (at < 0) at = note.lastIndexOf(text, near);
  return at < 0 ? undefined : [at, at + text.length];
}

/**
 * Encodes suggestions for the cache, or undefined when some text cannot be located (then the
 * result is not cached: correctness before speed).
 * @param suggestions - suggestConditions(notes, …)
 * @param notes - the same notes
 */
export function encodeCacheValue(suggestions: readonly Suggestion[], notes: readonly Note[]): string | undefined {
  const encoded: CachedSuggestion[] = [];
  for (const s of suggestions) {
    const evidence: CachedEvidence[] = [];
    for (const e of s.evidence) {
      const text = notes[e.note].text;
      let context: CachedContext | undefined;
      if (e.context) {
        const { trigger, section, ...rest } = e.context;
        context = { ...rest };
        if (trigger !== undefined) {
          const range = rangeOf(text, trigger, e.start);
          if (!range) return undefined;
          context.trigger = range;
        }
        if (section) {
          const range = rangeOf(text, section.heading, 0);
          if (!range) return undefined;
          context.section = { kind: section.kind, heading: range };
        }
      }
      evidence.push({ note: e.note, start: e.start, end: e.end, support: e.support, ...(context ? { context } : {}) });
    }
    encoded.push({ ...s, evidence });
  }
  const value = JSON.stringify(encoded);
  // Round trip must give back exactly what was computed.
  return JSON.stringify(decodeCacheValue(value, notes)) === JSON.stringify(suggestions) ? value : undefined;
}

/**
 * Rebuilds suggestions (with their quotes) from a cached value and the call's notes.
 * @param value - encodeCacheValue's output
 * @param notes - notes with the same text as when it was encoded (same key)
 */
export function decodeCacheValue(value: string, notes: readonly Note[]): Suggestion[] {
  const cached = JSON.parse(value) as CachedSuggestion[];
  return cached.map((s) => ({
    ...s,
    evidence: s.evidence.map((e): Evidence => {
      const text = notes[e.note].text;
      const { context, ...rest } = e;
      const out: Evidence = { ...rest, text: text.slice(e.start, e.end) };
      // Keys in the order passageContext writes them, so a decoded value equals the original.
      if (context) {
        const { status, mention, trigger, bySection, section } = context;
        out.context = {
          status,
          mention,
          ...(trigger ? { trigger: text.slice(trigger[0], trigger[1]) } : {}),
          ...(bySection ? { bySection } : {}),
          ...(section ? { section: { kind: section.kind, heading: text.slice(section.heading[0], section.heading[1]) } } : {}),
        };
      }
      return { note: out.note, start: out.start, end: out.end, text: out.text, support: out.support, ...(out.context ? { context: out.context } : {}) };
    }),
  }));
}
