/**
 * Words of a note and of the Index, in one normal form, so that "Pneumonias", "pneumonia's"
 * and "PNEUMONIA" meet the Index's "Pneumonia", "Crohn's disease" meets "Crohn disease",
 * "haemorrhage" meets "hemorrhage" and "type II" meets "type 2". The same function
 * normalizes both sides: a rule that over-merges two words does so everywhere, never for
 * one side only. Offsets are UTF-16 indices into the text, the unit of the evidence.
 */

/** A word of a text: where it is, as written, and its normal form. */
export interface Word {
  start: number;
  end: number;
  /** As written. */
  raw: string;
  /** Normal form (normalizeWord). */
  norm: string;
}

/** Spelling variants, British to US, as whole-word or stem rewrites (the Index is written in US spelling). */
export interface SpellingVariants {
  /** Replacements applied to the start of a word: `haem` → `hem`, `oesophag` → `esophag`. */
  prefixes: readonly [from: string, to: string][];
  /** Whole-word replacements: `tumour` → `tumor`. */
  words: ReadonlyMap<string, string>;
}

const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}]+)*/gu;
const COMBINING = /\p{M}+/gu;
const ROMAN: Readonly<Record<string, string>> = { ii: '2', iii: '3', iv: '4', v: '5', vi: '6' };
/** After these, `i` is the numeral one ("type I diabetes", "stage I"). */
const NUMBERED = new Set(['type', 'stage', 'grade', 'class', 'phase', 'degree']);

// Latin and Greek plurals the Index writes in the singular.
const IRREGULAR: Readonly<Record<string, string>> = {
  emboli: 'embolus',
  thrombi: 'thrombus',
  bronchi: 'bronchus',
  calculi: 'calculus',
  fungi: 'fungus',
  bacilli: 'bacillus',
  nuclei: 'nucleus',
  vertebrae: 'vertebra',
  bullae: 'bulla',
  varices: 'varix',
  appendices: 'appendix',
  cervices: 'cervix',
  apices: 'apex',
  metastases: 'metastasis',
  diagnoses: 'diagnosis',
  stenoses: 'stenosis',
  prostheses: 'prosthesis',
  anastomoses: 'anastomosis',
  neuroses: 'neurosis',
  psychoses: 'psychosis',
  ganglia: 'ganglion',
  women: 'woman',
  men: 'man',
  children: 'child',
  feet: 'foot',
  teeth: 'tooth',
};

/** Words that end in s and are not plurals (left as they are). */
const KEEP_S = /(?:ss|us|is|ous|ys|sis|itis|osis|ics|xis)$/;

/**
 * The normal form of one word: lower case, without diacritics or a possessive, US spelling,
 * singular, Roman numerals II–VI as digits.
 * @param word - a word as written (letters and digits, maybe with an apostrophe)
 * @param spelling - British-to-US variants
 * @param previous - the normal form of the word before it (decides whether `i` is a numeral)
 */
export function normalizeWord(word: string, spelling?: SpellingVariants, previous?: string): string {
  // Only after a numbered word ("type i") does the word before matter; otherwise a word's normal
  // form is kept (bounded: notes bring new words).
  if (previous && NUMBERED.has(previous)) return normalizeFresh(word, spelling, previous);
  let cache = normalCache.get(spelling ?? NO_SPELLING);
  if (!cache) normalCache.set(spelling ?? NO_SPELLING, (cache = new Map()));
  let norm = cache.get(word);
  if (norm === undefined) {
    if (cache.size >= 100_000) cache.clear();
    cache.set(word, (norm = normalizeFresh(word, spelling)));
  }
  return norm;
}

const NO_SPELLING = {};
const normalCache = new WeakMap<object, Map<string, string>>();

function normalizeFresh(word: string, spelling?: SpellingVariants, previous?: string): string {
  let w = word.normalize('NFD').replace(COMBINING, '').toLowerCase();
  // "Wells' disease", "Hers' disease": the possessive of a name ending in s keeps its s.
  if (/s['’]$/.test(w)) return w.slice(0, -1);
  w = w.replace(/['’]s$/, '').replace(/['’]/g, '');
  if (ROMAN[w]) return ROMAN[w];
  if (w === 'i' && previous && NUMBERED.has(previous)) return '1';
  if (spelling) {
    const whole = spelling.words.get(w);
    if (whole) w = whole;
    else for (const [from, to] of spelling.prefixes) if (w.startsWith(from)) w = to + w.slice(from.length);
  }
  return singular(w);
}

function singular(w: string): string {
  const irregular = IRREGULAR[w];
  if (irregular) return irregular;
  if (w.length <= 3 || /\d/.test(w)) return w;
  if (w.endsWith('ies') && w.length > 4) return `${w.slice(0, -3)}y`;
  if (KEEP_S.test(w)) return w;
  if (/(?:ch|sh|x|z)es$/.test(w)) return w.slice(0, -2);
  if (w.endsWith('s')) return w.slice(0, -1);
  return w;
}

/**
 * The words of a text, in order, with their offsets and normal forms.
 * @param text - a note, or an Index title
 * @param spelling - British-to-US variants
 */
export function wordsOf(text: string, spelling?: SpellingVariants): Word[] {
  const words: Word[] = [];
  let previous: string | undefined;
  for (const m of text.matchAll(WORD)) {
    const norm = normalizeWord(m[0], spelling, previous);
    words.push({ start: m.index!, end: m.index! + m[0].length, raw: m[0], norm });
    previous = norm;
  }
  return words;
}
