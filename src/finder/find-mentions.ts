/**
 * The mention finder: every place a note names a condition the Alphabetic Index knows, found
 * by its main term (the condition noun: "pneumonia", "failure", "fibrillation") in the note's
 * words after the lexicon. Each mention carries the words around it that may be its subterms
 * (its window): the rest of its sentence or list item, cut at list separators between it and
 * the next condition, so "community-acquired pneumonia of the right lower lobe" and
 * "pneumonia, RLL, community acquired" give the same words. Word order within the window is
 * free, as it is in how clinicians write.
 */
import type { MainTermRule } from '../knowledge/knowledge';
import type { Span } from '../evidence/passages';
import type { Lexicon, StreamWord } from './lexicon';
import { NOT_CONDITION_WORDS, STOP_WORDS, type TermIndex, type TermNode } from './term-index';

export interface Mention {
  /** Its position among the note's mentions. */
  id: number;
  main: TermNode;
  /** Where the main term is written (UTF-16 offsets into the note): the evidence's mention. */
  span: Span;
  /** The sentence or list item it is in. */
  clause: Span;
  /** Stream indices of the main term's words. */
  mainWords: number[];
  /** Stream indices of the words that may be its subterms (the main term's own words excluded). */
  window: number[];
  /** Only a subterm makes it a diagnosis (a generic head such as "Disease" or "Pain"). */
  needsSubterm: boolean;
}

export interface FoundMentions {
  stream: StreamWord[];
  mentions: Mention[];
}

/** How far from its main term a subterm may be written, in words. */
export const WINDOW_WORDS = 10;
/** How far apart the words of a multi-word main term may be. */
const MAIN_TERM_GAP = 3;
const SEPARATOR_WORDS = new Set(['and', 'or', 'plus']);
/** Words of running text that are never where a condition is named, whatever an eponym's title holds. */
const NOT_ANCHORS = new Set([
  ...NOT_CONDITION_WORDS,
  'well',
  'wells',
  'was',
  'were',
  'has',
  'had',
  'have',
  'not',
  'this',
  'that',
  'with',
  'without',
  'per',
  'day',
  'days',
  'week',
  'weeks',
  'year',
  'years',
  'time',
  'times',
  'left',
  'right',
  'upper',
  'lower',
  'total',
  'first',
  'second',
  'third',
  'last',
  'new',
  'old',
  'poor',
]);

/** Whether a main term's title opens with a word in capitals (an acronym: "PRES", "COVID-19"). */
function isAcronym(node: TermNode): boolean {
  const first = node.title.split(/[\s,(]/)[0];
  return /^[A-Z][A-Z0-9-]*[A-Z][A-Z0-9-]*$/.test(first);
}

/** The finder for one index, with the knowledge's main-term rules applied. */
export interface MentionFinder {
  find(text: string, clauses: readonly Span[]): FoundMentions;
}

/**
 * @param index - the Alphabetic Index as a tree
 * @param lexicon - abbreviations and synonyms
 * @param rules - main terms never taken from free text, or only with a subterm
 */
export function createMentionFinder(index: TermIndex, lexicon: Lexicon, rules: readonly MainTermRule[]): MentionFinder {
  // Rules name a main term by its title's first form ("Test, tests" and "Test, tests, testing" alike).
  const firstForm = (title: string) => title.split(',')[0].trim().toLowerCase();
  const ruleOf = new Map(rules.filter((r) => r.rule !== 'prefer').map((r) => [firstForm(r.term), r.rule]));
  const preferred = new Set(rules.filter((r) => r.rule === 'prefer').map((r) => firstForm(r.term) + '|' + r.term.toLowerCase()));
  const usable = (node: TermNode): { use: boolean; needsSubterm: boolean } => {
    const rule = ruleOf.get(firstForm(node.title));
    if (rule === 'never') return { use: false, needsSubterm: false };
    const f = node.fields;
    // "Heart - see condition": the condition's own main term carries the code.
    const onlyCondition = !f.code && (f.see ?? '').toLowerCase() === 'condition';
    if (onlyCondition) return { use: false, needsSubterm: false };
    const noCode = !f.code && !f.see;
    return { use: true, needsSubterm: rule === 'subterm' || noCode };
  };

  return {
    find(text, clauses) {
      const stream = lexicon.streamOf(text);
      const mentions: Mention[] = [];
      let c = 0;
      const clauseOf = (at: number) => {
        while (c < clauses.length && clauses[c].end <= at) c++;
        return c < clauses.length && clauses[c].start <= at ? clauses[c] : undefined;
      };
      const taken = new Set<number>();
      for (let i = 0; i < stream.length; i++) {
        const w = stream[i];
        // Short words ("h" in mm/h) and ordinary words never anchor a main term; abbreviations' expansions may.
        if (taken.has(i) || STOP_WORDS.has(w.norm) || NOT_ANCHORS.has(w.norm) || (w.norm.length < 3 && !w.expanded)) continue;
        const candidates = index.byAnchor.get(w.norm);
        if (!candidates) continue;
        const clause = clauseOf(w.start);
        if (!clause) continue;
        let best: { node: TermNode; words: number[]; score: number } | undefined;
        const clauseWords = new Set<string>();
        for (let j = i; j < stream.length && stream[j].start < clause.end && j < i + 2 * WINDOW_WORDS; j++) clauseWords.add(stream[j].norm);
        for (let j = i - 1; j >= 0 && stream[j].start >= clause.start && j > i - 2 * WINDOW_WORDS; j--) clauseWords.add(stream[j].norm);
        // An acronym the Index spells in capitals ("PRES", "TAR", "CHARGE") is written in capitals
        // in a note too: "pre-fused", "tar" and "charge" are ordinary words.
        const lowerCase = !w.expanded && /[a-z]/.test(text.slice(w.start, w.end));
        for (const { node, words } of candidates) {
          if (lowerCase && isAcronym(node)) continue;
          const at = [i];
          let k = i;
          for (const needed of words.slice(1)) {
            let found = -1;
            for (let j = k + 1; j <= k + MAIN_TERM_GAP && j < stream.length && stream[j].start < clause.end; j++) {
              if (stream[j].norm === needed) {
                found = j;
                break;
              }
            }
            if (found < 0) break;
            at.push(found);
            k = found;
          }
          if (at.length !== words.length) continue;
          // Same first words ("Fracture, pathological" and "Fracture, traumatic"): the qualifier the
          // clause holds decides, else the knowledge's preferred form.
          const score =
            at.length +
            0.5 * node.optional.filter((w) => clauseWords.has(w)).length +
            (preferred.has(firstForm(node.title) + '|' + node.title.toLowerCase()) ? 0.1 : 0);
          if (!best || score > best.score) best = { node, words: at, score };
        }
        if (!best) continue;
        const { use, needsSubterm } = usable(best.node);
        if (!use) continue;
        for (const j of best.words) taken.add(j);
        const first = stream[best.words[0]];
        const last = stream[best.words[best.words.length - 1]];
        mentions.push({
          id: mentions.length,
          main: best.node,
          span: { start: Math.min(first.start, last.start), end: Math.max(first.end, last.end) },
          clause,
          mainWords: best.words,
          window: [],
          needsSubterm,
        });
      }
      for (const [m, mention] of mentions.entries()) mention.window = windowOf(text, stream, mentions, m);
      return { stream, mentions };
    },
  };
}

/** The stream indices of a mention's window: its clause, within WINDOW_WORDS, cut at a list separator that stands between it and a neighbouring mention. */
function windowOf(text: string, stream: readonly StreamWord[], mentions: readonly Mention[], m: number): number[] {
  const mention = mentions[m];
  const first = mention.mainWords[0];
  const last = mention.mainWords[mention.mainWords.length - 1];
  const inClause = (j: number) => j >= 0 && j < stream.length && stream[j].start >= mention.clause.start && stream[j].end <= mention.clause.end;
  // A comma or semicolon between words a and a + 1, or "and"/"or" as word a.
  const separatorAfter = (a: number) => /[,;]/.test(text.slice(stream[a].end, stream[a + 1]?.start ?? stream[a].end));
  const separatorWord = (a: number) => SEPARATOR_WORDS.has(stream[a].norm) && !stream[a].expanded;
  // Only a condition cuts a neighbour's window: "BPPV, left ear" keeps "left ear" (Ear - see condition).
  const boundary = (other: Mention) => other.clause === mention.clause && (!!other.main.fields.code || !other.needsSubterm);
  let prev: Mention | undefined;
  for (let k = m - 1; k >= 0 && mentions[k].clause === mention.clause; k--)
    if (boundary(mentions[k])) {
      prev = mentions[k];
      break;
    }
  let next: Mention | undefined;
  for (let k = m + 1; k < mentions.length && mentions[k].clause === mention.clause; k++)
    if (boundary(mentions[k])) {
      next = mentions[k];
      break;
    }
  const prevEnd = prev ? prev.mainWords[prev.mainWords.length - 1] : -1;
  const nextStart = next ? next.mainWords[0] : stream.length;
  const own = new Set(mention.mainWords);
  // A list number ("3." opening "3. Type 2 diabetes ... stage 3b") is not a word of the condition.
  const enumerator = (j: number) =>
    /^\d{1,2}$/.test(stream[j].norm) && stream[j].start <= mention.clause.start + 1 && /^[.)]/.test(text.slice(stream[j].end, stream[j].end + 1));
  for (let j = first; j >= 0 && stream[j].start >= mention.clause.start; j--) if (enumerator(j)) own.add(j);
  const out: number[] = [];
  for (let j = first - 1, n = 0; inClause(j) && n < WINDOW_WORDS; j--, n++) {
    // Cut only between this mention and its neighbour, so "pneumonia, RLL, community acquired" stays whole.
    if (prev && j >= prevEnd && (separatorAfter(j) || separatorWord(j))) break;
    if (!own.has(j)) out.push(j);
  }
  for (let j = last + 1, n = 0; inClause(j) && n < WINDOW_WORDS; j++, n++) {
    if (next && j <= nextStart && (separatorAfter(j - 1) || separatorWord(j))) break;
    if (!own.has(j)) out.push(j);
  }
  return out.sort((a, b) => a - b);
}
