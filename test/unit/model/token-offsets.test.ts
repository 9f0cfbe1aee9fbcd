/**
 * The offset aligner against the reference implementation.
 *
 * Golden files (test/fixtures/tokenization/golden-*.json, written by
 * src/tools/generate-golden-offsets.ts with the official native `tokenizers` binding) hold,
 * for each test tokenizer and each text of texts.json, the reference ids and UTF-16 offsets.
 * `createNoteTokenizer(json).encode(text)` must give the same ids, place every token, and give
 * the same spans, with two documented normalizations of the reference spans (our choices,
 * not bugs):
 *
 * - Whitespace is trimmed from both ends of a reference span (our spans never start or end on
 *   whitespace, by design: evidence highlights words). The native library includes the space
 *   that byte-level BPE (`Ġ`) and Metaspace (`▁`) fold into a token unless its post-processor
 *   trims offsets, and gives a whitespace-only token (a lone `Ġ`, `▁` or tab) a span; after
 *   trimming, such a span is empty, and ours must be empty too (its position is not compared).
 * - A lone space marker (`▁`, `Ġ`) that the pre-tokenizer prepended (Metaspace
 *   `prepend_scheme`, ByteLevel `add_prefix_space`) stands for no character of the note; the
 *   native library gives it the span of the character after it, ours is empty.
 *
 * Property tests need no golden data: on every text, and on random strings of awkward
 * characters, spans lie within the text, never decrease, never overlap (except tokens that
 * share one source character that the tokenizer split, e.g. the bytes of an emoji), never
 * start or end on whitespace and never split a surrogate pair.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createNoteTokenizer, type NoteTokenizer } from '../../../src/model/tokenizer';
import type { GoldenFile, NamedText } from '../../../src/tools/generate-golden-offsets';
import { SPECIAL_TOKENS, wordPieceTokenizerJson } from '../../../src/tools/train/wordpiece';

const DIR = path.join(__dirname, '..', '..', 'fixtures', 'tokenization');
const readJson = <T>(file: string): T => JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as T;

const texts = readJson<NamedText[]>('texts.json');
const textOf = new Map(texts.map((t) => [t.name, t.text]));
const goldenFiles = readdirSync(DIR)
  .filter((f) => /^golden-.+\.json$/.test(f))
  .sort();

/**
 * Texts on which @huggingface/tokenizers itself gives other ids than the reference, so the
 * aligner cannot be compared there. eow-bpe splits with WhitespaceSplit: the JS library's
 * whitespace is JavaScript's `\s` (includes U+FEFF, excludes U+0085) while the native one
 * uses Unicode White_Space (the other way round). Tokenizers with a BertNormalizer do not
 * see this: it deletes both characters first.
 */
const LIBRARY_DIFFERS: Record<string, string[]> = {
  'golden-eow-bpe.json': ['zero-width', 'soft-hyphen-separators'],
};

const WHITESPACE = /^\p{White_Space}$/u;
const SPACE_MARKERS = new Set(['\u2581', '\u0120']);
const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** A reference span with whitespace trimmed from both ends; undefined if nothing is left. */
function trimmed(text: string, [start, end]: readonly number[]): [number, number] | undefined {
  let s = start;
  let e = end;
  while (s < e && WHITESPACE.test(text[s])) s++;
  while (e > s && WHITESPACE.test(text[e - 1])) e--;
  return s < e ? [s, e] : undefined;
}

/** Token i as `token [start,end) "covered text"`, or `token (empty)`: readable diffs. */
function describeSpans(text: string, tokens: readonly string[], spans: readonly ([number, number] | undefined)[]): string[] {
  return spans.map((span, i) => (span ? `${tokens[i]} [${span[0]},${span[1]}) ${JSON.stringify(text.slice(span[0], span[1]))}` : `${tokens[i]} (empty)`));
}

function spansOf(offsets: Int32Array): ([number, number] | undefined)[] {
  const out: ([number, number] | undefined)[] = [];
  for (let i = 0; i < offsets.length; i += 2) out.push(offsets[i] < offsets[i + 1] ? [offsets[i], offsets[i + 1]] : undefined);
  return out;
}

/** The property checks; returns the first violation found, or undefined. */
function violation(text: string, offsets: Int32Array): string | undefined {
  let prevStart = 0;
  let prevEnd = 0;
  for (let k = 0; k < offsets.length / 2; k++) {
    const s = offsets[2 * k];
    const e = offsets[2 * k + 1];
    const at = `token ${k} [${s},${e})`;
    if (!(s >= 0 && s <= e && e <= text.length)) return `${at} outside the text`;
    if (s === e) continue; // empty: a token that stands for no visible character
    if (s < prevStart || e < prevEnd) return `${at} goes backwards from [${prevStart},${prevEnd})`;
    if (s < prevEnd) {
      // Overlap is allowed only for one source character split between tokens.
      const shared = text.slice(s, prevEnd);
      if ([...shared].length !== 1 || s !== prevEnd - shared.length) return `${at} overlaps [${prevStart},${prevEnd})`;
    }
    if (WHITESPACE.test(text[s]) || WHITESPACE.test(text[e - 1])) return `${at} starts or ends on whitespace`;
    if ((s > 0 && isLow(text.charCodeAt(s)) && isHigh(text.charCodeAt(s - 1))) || (isLow(text.charCodeAt(e)) && isHigh(text.charCodeAt(e - 1)))) {
      return `${at} splits a surrogate pair`;
    }
    prevStart = s;
    prevEnd = e;
  }
  return undefined;
}

const tokenizers = new Map<string, NoteTokenizer>();
function tokenizerFor(golden: GoldenFile): NoteTokenizer {
  let tokenizer = tokenizers.get(golden.tokenizer);
  if (!tokenizer) tokenizers.set(golden.tokenizer, (tokenizer = createNoteTokenizer(readJson(golden.tokenizer))));
  return tokenizer;
}

test('the fixtures are there', () => {
  expect(goldenFiles.length).toBeGreaterThanOrEqual(8);
  expect(texts.length).toBeGreaterThanOrEqual(40);
  expect(textOf.get('long-note-2000-words')!.split(/\s+/).length).toBe(2000);
});

describe.each(goldenFiles)('%s', (file) => {
  const golden = readJson<GoldenFile>(file);
  const differs = new Set(LIBRARY_DIFFERS[file] ?? []);

  test('was written in UTF-16 offsets for the current texts', () => {
    expect(golden.offsetUnit).toBe('utf16');
    expect(golden.texts.map((t) => t.name)).toEqual(texts.map((t) => t.name));
  });

  test.each(golden.texts.filter((t) => !differs.has(t.name)).map((t) => [t.name, t] as const))('%s: same ids and spans', (name, expected) => {
    const text = textOf.get(name)!;
    const got = tokenizerFor(golden).encode(text);
    expect(Array.from(got.ids)).toEqual(expected.ids);
    expect(got.unaligned).toBe(0);
    expect(describeSpans(text, expected.tokens, spansOf(got.offsets))).toEqual(
      describeSpans(
        text,
        expected.tokens,
        expected.offsets.map((span, i) => (SPACE_MARKERS.has(expected.tokens[i]) ? undefined : trimmed(text, span))),
      ),
    );
  });

  test('the JS library differs from the reference only on the documented texts', () => {
    expect(golden.libraryDiffers).toEqual([...differs]);
    const tokenizer = tokenizerFor(golden);
    const differing = golden.texts.filter((t) => JSON.stringify(Array.from(tokenizer.encode(textOf.get(t.name)!).ids)) !== JSON.stringify(t.ids));
    expect(differing.map((t) => t.name)).toEqual([...differs]);
  });

  test('spans have the properties on every text', () => {
    const tokenizer = tokenizerFor(golden);
    for (const { name, text } of texts) {
      const got = tokenizer.encode(text);
      expect({ name, unaligned: got.unaligned, violation: violation(text, got.offsets) }).toEqual({ name, unaligned: 0, violation: undefined });
    }
  });

  test('spans have the properties on random strings of awkward characters', () => {
    const tokenizer = tokenizerFor(golden);
    for (const text of randomTexts(300, 7)) {
      const got = tokenizer.encode(text);
      const json = JSON.stringify(text); // invisible characters escaped in failure messages
      expect({ json, unaligned: got.unaligned, violation: violation(text, got.offsets) }).toEqual({ json, unaligned: 0, violation: undefined });
    }
  });
});

test('a word-final capital sigma, which the JS library lower-cases to ς (the reference: σ), is placed', () => {
  const letters = [...'οδσςx'];
  const tokenizer = createNoteTokenizer(wordPieceTokenizerJson([...SPECIAL_TOKENS, ...letters, ...letters.map((c) => `##${c}`)]));
  const got = tokenizer.encode('ΟΔΟΣ x');
  expect(got.unaligned).toBe(0);
  expect(spansOf(got.offsets)).toEqual([
    [0, 1],
    [1, 2],
    [2, 3],
    [3, 4],
    [5, 6],
  ]);
});

/**
 * Word-separable tokenizers (BERT-style normalizer and pre-tokenizer) encode a note word by
 * word from a cache of words already seen; the result must be exactly that of encoding it
 * whole. The golden tests above already run through the cache; these compare the two paths
 * directly, with a cache small enough to evict words of the very note being encoded.
 */
describe('the word cache', () => {
  const SEPARABLE = ['eow-bpe.tokenizer.json', 'wordpiece-cased.tokenizer.json', 'wordpiece-uncased.tokenizer.json', '../tiny-model/tokenizer.json'];
  const files = [...new Set(goldenFiles.map((f) => readJson<GoldenFile>(f).tokenizer))].sort();

  test.each(files)('%s: encoding by word gives the ids, spans and unaligned count of encoding whole', (file) => {
    const whole = createNoteTokenizer(readJson(file), { wordCacheSize: 0 });
    const byWord = createNoteTokenizer(readJson(file), { wordCacheSize: 40 });
    const all = [...texts.map((t) => t.text), ...randomTexts(1000, 11)];
    for (const text of [...all, ...all]) {
      const expected = whole.encode(text);
      const got = byWord.encode(text);
      const json = JSON.stringify(text.slice(0, 200));
      expect({ json, ids: Array.from(got.ids), offsets: Array.from(got.offsets), unaligned: got.unaligned }).toEqual({
        json,
        ids: Array.from(expected.ids),
        offsets: Array.from(expected.offsets),
        unaligned: expected.unaligned,
      });
    }
    expect(whole.cachedWords).toBe(0);
    expect(byWord.cachedWords).toBeLessThanOrEqual(40);
    // Words are remembered only when the tokenizer is word-separable (and the word path ran).
    expect(byWord.cachedWords > 0).toBe(SEPARABLE.includes(file));
  });

  test('a long note is put together from cached words on a second encoding', () => {
    const tokenizer = createNoteTokenizer(readJson('wordpiece-uncased.tokenizer.json'));
    const note = textOf.get('long-note-2000-words')!;
    const first = tokenizer.encode(note);
    const words = tokenizer.cachedWords;
    expect(words).toBeGreaterThan(100);
    const second = tokenizer.encode(`${note} ${note}`);
    expect(tokenizer.cachedWords).toBe(words);
    expect(second.ids.length).toBe(2 * first.ids.length);
    expect(violation(`${note} ${note}`, second.offsets)).toBeUndefined();
  });
});

/** Pieces random texts are made of: words, separators and characters that normalizers,
 * pre-tokenizers and byte-level encoding treat specially. */
const PIECES = [
  'cough',
  'Pneumonia',
  'HbA1c',
  'mg/kg',
  'q.i.d.',
  'Dr.',
  '38.9',
  '3–5',
  'naïve',
  'Sjögren’s',
  'İ',
  'ﬁ',
  '½',
  'µg',
  '10⁹',
  'e\u0301',
  'A\u030a',
  'o\u0308\u0301',
  '😣',
  '👨‍⚕️',
  '🇺🇸',
  '𠀀',
  '肺炎',
  'ΣΟΣ',
  'ς',
  '\u0007',
  '\u200b',
  '\ufeff',
  '\u00ad',
  '\u0085',
  '\u2028',
  ' ',
  ' ',
  '  ',
  '\t',
  '\n',
  '\r\n',
  '\u00a0',
  '\u2009',
  '\u202f',
  '\u3000',
  '...',
  '!!',
  '—',
  '‑',
  '−',
  '-',
  "'",
  '’',
  '[UNK]',
  '<unk>',
  '[CLS]',
];

/** Deterministic random strings built from PIECES. */
function randomTexts(count: number, seed: number): string[] {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, () => {
    const parts: string[] = [];
    const n = 1 + Math.floor(random() * 12);
    for (let i = 0; i < n; i++) parts.push(PIECES[Math.floor(random() * PIECES.length)]);
    return parts.join('');
  });
}
