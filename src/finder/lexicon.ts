/**
 * The note's words as the finder reads them: each word in normal form, with the project's
 * abbreviations expanded in place ("CHF" → congestive heart failure) and synonyms added
 * ("cancer" → also malignant neoplasm). Every word keeps the offsets of what the note says, so
 * evidence quotes the note, never the expansion.
 */
import type { LexiconEntry } from '../knowledge/knowledge';
import { wordsOf, type SpellingVariants, type Word } from './words';

/** A word of the finder's stream. */
export interface StreamWord {
  start: number;
  end: number;
  norm: string;
  /** Set when the word comes from an abbreviation or synonym of the lexicon. */
  expanded?: true;
}

interface CompiledEntry {
  /** The term's words: as written when case-sensitive, else in normal form ("metastases" meets "metastasis"). */
  raw: string[];
  caseSensitive: boolean;
  expansion: string[];
  kind: LexiconEntry['kind'];
}

export interface Lexicon {
  /** The stream of a text's words, with the lexicon applied. */
  streamOf(text: string): StreamWord[];
}

/**
 * @param entries - the abbreviations and synonyms (knowledge/abbreviations.tsv, synonyms.tsv)
 * @param spelling - British-to-US variants
 */
export function createLexicon(entries: readonly LexiconEntry[], spelling?: SpellingVariants): Lexicon {
  // By the first raw word (lower case), longest entries first.
  const byFirst = new Map<string, CompiledEntry[]>();
  for (const e of entries) {
    const termWords = wordsOf(e.term, spelling);
    const raw = termWords.map((w) => (e.caseSensitive ? w.raw : w.norm));
    if (raw.length === 0) continue;
    const compiled: CompiledEntry = { raw, caseSensitive: e.caseSensitive, expansion: wordsOf(e.expansion, spelling).map((w) => w.norm), kind: e.kind };
    const key = e.caseSensitive ? raw[0].toLowerCase() : raw[0];
    const list = byFirst.get(key) ?? [];
    list.push(compiled);
    list.sort((a, b) => b.raw.length - a.raw.length);
    byFirst.set(key, list);
  }

  /** Whether entry `e` matches the words from `i`, adjacent on one line. */
  const matches = (e: CompiledEntry, words: readonly Word[], text: string, i: number) => {
    if (i + e.raw.length > words.length) return false;
    for (let k = 0; k < e.raw.length; k++) {
      const w = words[i + k];
      if (e.caseSensitive ? w.raw !== e.raw[k] : w.norm !== e.raw[k]) return false;
      if (k > 0 && /[\r\n]/.test(text.slice(words[i + k - 1].end, w.start))) return false;
      if (k > 0 && text.slice(words[i + k - 1].end, w.start).length > 3) return false;
    }
    // "PE:" heads the physical examination: a heading is never an abbreviation to expand.
    return !/^\s*:/.test(text.slice(words[i + e.raw.length - 1].end, words[i + e.raw.length - 1].end + 3));
  };

  return {
    streamOf(text) {
      const words = wordsOf(text, spelling);
      const stream: StreamWord[] = [];
      for (let i = 0; i < words.length; i++) {
        const w = words[i];
        const entry = [...(byFirst.get(w.norm) ?? []), ...(w.norm !== w.raw.toLowerCase() ? (byFirst.get(w.raw.toLowerCase()) ?? []) : [])]
          .sort((a, b) => b.raw.length - a.raw.length)
          .find((e) => matches(e, words, text, i));
        if (!entry) {
          stream.push({ start: w.start, end: w.end, norm: w.norm });
          continue;
        }
        const last = words[i + entry.raw.length - 1];
        if (entry.kind === 'also')
          for (let k = 0; k < entry.raw.length; k++) stream.push({ start: words[i + k].start, end: words[i + k].end, norm: words[i + k].norm });
        for (const norm of entry.expansion) stream.push({ start: w.start, end: last.end, norm, expanded: true });
        i += entry.raw.length - 1;
      }
      return stream;
    },
  };
}
