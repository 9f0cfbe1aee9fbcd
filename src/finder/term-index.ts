/**
 * The Alphabetic Index (and the Neoplasm, Drug and External-cause tables) as a tree the finder
 * and the assigner can walk: each term's essential words in normal form, its alternatives
 * ("Hypertension, hypertensive"), whether it only connects ("with", "due to"), and a per-node
 * lookup from a word to the subterms that contain it. Built once from the code-set bundle.
 */
import type { CodeSet } from '../codeset/code-set';
import type { IndexFile, IndexTerm, TermFields } from '../codeset/format';
import { wordsOf, type SpellingVariants } from './words';

/** Subterm titles that only connect a term to what follows (Index conventions, guideline I.A.15 for "with"). */
export type Connector = 'with' | 'without' | 'due to' | 'in' | 'other';

export interface TermNode {
  /** The essential title as the Index prints it (nonessential modifiers apart). */
  title: string;
  /** Each way of writing the term: its required words in normal form (one alternative for most terms). */
  alternatives: string[][];
  /** Words of the title that may be absent ("disease", "specified"): they add to a match, never block it. */
  optional: string[];
  /** Nonessential modifiers' words: their presence neither helps nor hinders the code, but marks the mention. */
  modifiers: string[];
  connector?: Connector;
  /**
   * A subterm written "with X" or "without X": "with" ones may lean on other mentions like the
   * "with" connector's subterms; "without" ones hold when X is not documented.
   */
  prefix?: 'with' | 'without';
  /** A subterm with no required word ("specified NEC", "unspecified site"): followed only as a default. */
  fallback: boolean;
  fields: TermFields;
  children: TermNode[];
  parent?: TermNode;
  /** The first word of the main term's title (its anchor), for main terms only. */
  depth: number;
}

/** Words that carry no meaning for matching. */
export const STOP_WORDS: ReadonlySet<string> = new Set([
  'of',
  'the',
  'and',
  'or',
  'a',
  'an',
  'to',
  'by',
  'for',
  'as',
  'on',
  'at',
  'from',
  'than',
  'any',
  'nec',
  'nos',
  'also',
  'see',
  'its',
  'their',
  'be',
  'is',
  'are',
  'was',
]);

/**
 * Words of running text that neither name nor qualify a condition, though an eponym's title is
 * spelt like them: "his" is not His' disease, "her" not Hers' disease, "good condition" not
 * Good's syndrome.
 */
export const NOT_CONDITION_WORDS: ReadonlySet<string> = new Set(['her', 'hers', 'his', 'him', 'he', 'she', 'good']);

/** Words an Index title may hold that a clinician need not write. */
export const OPTIONAL_WORDS: ReadonlySet<string> = new Set([
  'specified',
  'unspecified',
  'other',
  'disease',
  'disorder',
  'condition',
  'involvement',
  'site',
  'type',
  'form',
  'state',
  'organ',
  'part',
  'region',
  'syndrome',
  'process',
]);

const CONNECTORS: Readonly<Record<string, Connector>> = { with: 'with', without: 'without', 'due to': 'due to', in: 'in', 'in due to': 'in' };

/** Shared stems ("apex, apical"; "hypertension, hypertensive"): the comma separates ways of writing one word. */
function sameStem(a: string, b: string): boolean {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n >= 4 || (n >= 3 && Math.min(a.length, b.length) <= 5);
}

/**
 * The alternatives and optional words of a title. A comma joins either two forms of one word
 * ("Abdomen, abdominal": alternatives) or words in inverted order ("Decapsulation, kidney": both
 * required): the first when the parts share a stem.
 * @param title - essential title
 * @param spelling - British-to-US variants
 */
export function titleWords(title: string, spelling?: SpellingVariants, main = false): { alternatives: string[][]; optional: string[] } {
  const parts = title.split(',').map((p) =>
    wordsOf(p, spelling)
      .map((w) => w.norm)
      .filter((w) => !STOP_WORDS.has(w)),
  );
  const nonEmpty = parts.filter((p) => p.length > 0);
  // A main term's own words are always required ("Disorder", "Syndrome"): only subterms have optional ones.
  // "Frontal, lobe syndrome": a syndrome named by one word stays a syndrome ("frontal lobe" is a place).
  const required = (ws: string[]) => {
    if (main) return ws;
    const essential = ws.filter((w) => !OPTIONAL_WORDS.has(w));
    return essential.length === 1 && ws.includes('syndrome') ? [...essential, 'syndrome'] : essential;
  };
  const optional = [...new Set(nonEmpty.flat().filter((w) => OPTIONAL_WORDS.has(w)))];
  if (nonEmpty.length >= 2 && nonEmpty.every((p) => p.length === 1) && nonEmpty.slice(1).every((p) => sameStem(p[0], nonEmpty[0][0]))) {
    return { alternatives: nonEmpty.map((p) => p), optional: [] };
  }
  // "atrial or auricular": either word; "Goldblatt's hypertension or kidney": the words before
  // the last one are shared ("Goldblatt hypertension", "Goldblatt kidney").
  if (!title.includes(',') && / or /i.test(title)) {
    const ors = title.split(/ or /i).map((p) =>
      wordsOf(p, spelling)
        .map((w) => w.norm)
        .filter((w) => !STOP_WORDS.has(w)),
    );
    if (ors.every((o) => o.length > 0)) {
      const shared = ors[0].slice(0, -1);
      const alternatives = ors.map((o, i) => required(i === 0 || o.length > 1 ? o : [...shared, ...o])).filter((a) => a.length > 0);
      if (alternatives.length > 0) return { alternatives, optional };
    }
  }
  return { alternatives: [required(nonEmpty.flat())], optional };
}

function nodeOf(term: IndexTerm, depth: number, spelling: SpellingVariants | undefined, parent?: TermNode): TermNode {
  const [title, nemod, fields, subs] = term;
  const key = title.toLowerCase().replace(/[()]/g, '').replace(/\s+/g, ' ').trim();
  const connector = depth > 0 ? CONNECTORS[key] : undefined;
  // "not specified as recurrent" holds, like "without", when the note does not say so.
  const prefixed = depth > 0 && !connector ? /^(with|without|not specified as)\s+(.+)$/i.exec(title) : null;
  const prefix = prefixed ? (prefixed[1].toLowerCase() === 'with' ? 'with' : 'without') : undefined;
  let { alternatives, optional } = connector
    ? { alternatives: [[]] as string[][], optional: [] as string[] }
    : titleWords(prefixed ? prefixed[2].replace(/^not specified as\s+/i, '') : title.replace(/^not specified as\s+/i, ''), spelling, depth === 0);
  // "and (on) chronic (congestive)": CDC's XML sometimes holds the essential word inside the
  // modifier; the words outside its own parentheses are then the term's.
  if (!connector && alternatives.every((a) => a.length === 0) && nemod.length > 0) {
    const inner = titleWords(nemod.map((m) => m.replace(/^\(|\)$/g, '').replace(/\([^)]*\)/g, ' ')).join(' '), spelling);
    if (inner.alternatives.some((a) => a.length > 0)) ({ alternatives, optional } = inner);
  }
  // "stage 5 chronic kidney disease (CKD) or end stage renal disease (ESRD)": an alternative written in the modifier.
  for (const m of nemod) {
    const outside = m.replace(/\([^)]*\)/g, ' ').trim();
    const or = /^or\s+(.+)$/i.exec(outside);
    if (or) {
      const words = wordsOf(or[1], spelling)
        .map((w) => w.norm)
        .filter((w) => !STOP_WORDS.has(w) && !OPTIONAL_WORDS.has(w));
      if (words.length > 0) alternatives = [...alternatives, words];
    }
  }
  const node: TermNode = {
    title,
    alternatives,
    optional,
    modifiers: [...new Set(nemod.flatMap((m) => wordsOf(m, spelling).map((w) => w.norm)).filter((w) => !STOP_WORDS.has(w)))],
    ...(connector ? { connector } : {}),
    ...(prefix ? { prefix } : {}),
    fallback: !connector && alternatives.every((a) => a.length === 0),
    fields,
    children: [],
    parent,
    depth,
  };
  node.children = subs.map((s) => nodeOf(s, depth + 1, spelling, node));
  return node;
}

/** One index as a tree, with lookups by main-term title and by anchor word. */
export interface TermIndex {
  readonly roots: readonly TermNode[];
  /** Main terms by each alternative's words joined with a space ("hypertension", "heart beat"). */
  readonly byTitle: ReadonlyMap<string, TermNode[]>;
  /** Main terms by the first required word of each alternative. */
  readonly byAnchor: ReadonlyMap<string, { node: TermNode; words: string[] }[]>;
  readonly columns?: readonly string[];
}

/**
 * @param file - an index or table of the bundle
 * @param spelling - British-to-US variants
 */
export function termIndexOf(file: IndexFile, spelling?: SpellingVariants): TermIndex {
  const roots = file.terms.map((t) => nodeOf(t, 0, spelling));
  // Main terms that share their first form ("Fracture, pathological", "Fracture, traumatic"):
  // notes write the first form ("fracture of the hip"), so it anchors each of them, and the
  // qualifier is an optional word that prefers one (find-mentions.ts breaks the tie).
  const firstForm = (n: TermNode) =>
    wordsOf(n.title.split(',')[0], spelling)
      .map((w) => w.norm)
      .filter((w) => !STOP_WORDS.has(w));
  const byFirst = new Map<string, TermNode[]>();
  for (const n of roots) {
    const key = firstForm(n).join(' ');
    byFirst.set(key, [...(byFirst.get(key) ?? []), n]);
  }
  for (const group of byFirst.values()) {
    // Only when no member is the first form alone ("Antibodies" beside "Antibodies, maternal" keeps the qualifier required).
    if (group.length < 2 || group.some((n) => n.alternatives.some((a) => a.length === firstForm(n).length))) continue;
    for (const n of group) {
      const first = firstForm(n);
      const rest = n.alternatives.flat().filter((w) => !first.includes(w));
      if (rest.length === 0 || first.length === 0) continue;
      n.alternatives = [first];
      n.optional = [...new Set([...n.optional, ...rest])];
    }
  }
  const byTitle = new Map<string, TermNode[]>();
  const byAnchor = new Map<string, { node: TermNode; words: string[] }[]>();
  const push = <K, V>(map: Map<K, V[]>, key: K, value: V) => {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };
  for (const node of roots) {
    for (const words of node.alternatives) {
      if (words.length === 0) continue;
      push(byTitle, words.join(' '), node);
      push(byAnchor, words[0], { node, words });
    }
  }
  return { roots, byTitle, byAnchor, ...(file.columns ? { columns: file.columns } : {}) };
}

/** The trees of a code set, built once per process. */
export interface TermIndexes {
  index: TermIndex;
  neoplasm?: TermIndex;
  drug?: TermIndex;
  eindex?: TermIndex;
}

/**
 * @param codeSet - the loaded bundle
 * @param spelling - British-to-US variants
 */
export function termIndexesOf(codeSet: CodeSet, spelling?: SpellingVariants): TermIndexes {
  return {
    index: termIndexOf(codeSet.index, spelling),
    ...(codeSet.neoplasm ? { neoplasm: termIndexOf(codeSet.neoplasm, spelling) } : {}),
    ...(codeSet.drug ? { drug: termIndexOf(codeSet.drug, spelling) } : {}),
    ...(codeSet.eindex ? { eindex: termIndexOf(codeSet.eindex, spelling) } : {}),
  };
}

const childLookup = new WeakMap<TermNode, Map<string, TermNode[]>>();

/**
 * The subterms of `node` that hold `word` among their required words (built on first use).
 * @param node - a term
 * @param word - a word in normal form
 */
export function childrenWith(node: TermNode, word: string): readonly TermNode[] {
  let lookup = childLookup.get(node);
  if (!lookup) {
    lookup = new Map();
    for (const child of node.children) {
      for (const w of new Set(child.alternatives.flat())) {
        const list = lookup.get(w);
        if (list) list.push(child);
        else lookup.set(w, [child]);
      }
    }
    childLookup.set(node, lookup);
  }
  return lookup.get(word) ?? [];
}

/** The path of titles from the main term to `node`. */
export function pathOf(node: TermNode): string[] {
  const titles: string[] = [];
  for (let n: TermNode | undefined = node; n; n = n.parent) titles.unshift(n.title);
  return titles;
}
