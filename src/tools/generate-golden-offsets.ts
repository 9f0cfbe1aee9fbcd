/**
 * Writes the golden token offsets that test/unit/model/token-offsets.test.ts holds our aligner
 * to: for every tokenizer in test/fixtures/tokenization/ and every text of texts.json, the
 * tokens, ids and offsets that the official Hugging Face native binding (`tokenizers`, Rust)
 * produces.
 *
 * Run by hand, never in CI: the native package is NOT a project dependency (64 MB of prebuilt
 * binaries). It installs offline (the binaries ship inside the npm tarball), either in a
 * scratch directory:
 *
 *   mkdir -p /tmp/native && (cd /tmp/native && npm init -y && npm install tokenizers@0.23.2)
 *   npm run build:tools && node dist-tools/tools/generate-golden-offsets.js --tokenizers-module /tmp/native/node_modules/tokenizers
 *
 * or with `npm install --no-save tokenizers@0.23.2` (then the flag can be left out; NODE_PATH
 * works too). Run it from the repository root. Same inputs give the same bytes.
 *
 * What it does:
 * 1. Fills the entry "long-note-2000-words" of texts.json with a deterministic 2,000-word
 *    clinical paragraph (the other texts are hand-written there).
 * 2. Writes the test tokenizers, each generated deterministically from the texts by a
 *    function below (none is hand-written): `<name>.tokenizer.json`.
 * 3. Encodes every text with the native library and writes `golden-<name>.json`, also for the
 *    tiny test model's tokenizer (read in place). It checks that @huggingface/tokenizers (the
 *    pure-JS library the service uses) loads each tokenizer and gives the same ids, and lists
 *    the texts where it does not in the golden file (`libraryDiffers`) and on stderr.
 *
 * Offsets: the binding reports offsets in Unicode code points (an astral character such as
 * an emoji counts 1; checked in `codePointOffsetsAreUsed` below). The golden files store UTF-16
 * code-unit offsets, the unit our aligner and `String.prototype.slice` use.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Tokenizer } from '@huggingface/tokenizers';
import { createPreTokenizer } from '../model/tokenizer';
import { SPECIAL_TOKENS, trainWordPiece, wordPieceTokenizerJson } from './train/wordpiece';
import { seededRandom } from './random';

/** The parts of the native binding this script uses. */
interface NativeEncoding {
  getIds(): number[];
  getTokens(): string[];
  getOffsets(): number[][];
}
interface NativeTokenizer {
  encode(text: string, pair: null, options: { addSpecialTokens: boolean }): Promise<NativeEncoding>;
}
interface NativeModule {
  Tokenizer: { fromString(json: string): NativeTokenizer };
}

/** One entry of texts.json. */
export interface NamedText {
  name: string;
  text: string;
}

/** One text of a golden file. Offsets are UTF-16 code units, `[start, end)`. */
export interface GoldenText {
  name: string;
  tokens: string[];
  ids: number[];
  offsets: [number, number][];
}

/** A golden file: a tokenizer's reference encodings of all texts. */
export interface GoldenFile {
  description: string;
  reference: string;
  /** The tokenizer.json, relative to the golden file's directory. */
  tokenizer: string;
  offsetUnit: 'utf16';
  /** Texts on which @huggingface/tokenizers gives other ids than the reference. */
  libraryDiffers: string[];
  texts: GoldenText[];
}

export const LONG_NOTE_NAME = 'long-note-2000-words';

/** Texts whose characters the trained tokenizers must not all know, so that unknown tokens
 * (WordPiece whole-word [UNK], BPE per-character <unk>) appear in the goldens. */
const HELD_OUT = new Set(['emoji', 'emoji-sequences', 'astral', 'cjk', 'japanese-korean', 'rtl', 'greek', 'symbols']);

// ---------------------------------------------------------------------------------------------
// The long note

const DRUGS = [
  'metformin',
  'lisinopril',
  'atorvastatin',
  'furosemide',
  'ceftriaxone',
  'azithromycin',
  'apixaban',
  'insulin glargine',
  'metoprolol',
  'pantoprazole',
];
const DIAGNOSES = [
  'community-acquired pneumonia',
  'acute kidney injury',
  'congestive heart failure',
  'atrial fibrillation',
  'type 2 diabetes mellitus',
  'COPD exacerbation',
  'urinary tract infection',
  'hypertension',
  'iron-deficiency anemia',
  'hyperlipidemia',
];
const LABS = ['creatinine', 'hemoglobin', 'potassium', 'sodium', 'HbA1c', 'BNP', 'troponin', 'WBC count', 'lactate', 'eGFR'];
const SENTENCES = [
  'The patient is a {age}-year-old with a history of {dx} and {dx2}.',
  'On admission {lab} was {num} and rose to {num2} on hospital day {day}.',
  'He was started on {drug} {dose} mg twice daily, then switched to {drug2}.',
  'She denies chest pain, nausea, vomiting or diarrhea; appetite is fair.',
  'Chest x-ray showed a right lower lobe infiltrate consistent with {dx}.',
  'Temperature peaked at {temp} °C with heart rate {hr} bpm and BP {sys}/{dia} mmHg.',
  'Follow-up with the primary care physician in {day} weeks for repeat {lab}.',
  'Discharge diagnoses: {dx}; {dx2}; resolved {dx3}.',
  'Home medications were reviewed: {drug} {dose} mg daily and {drug2} {dose2} mg at night.',
  'Echocardiogram showed an ejection fraction of {pct}% with mild mitral regurgitation.',
  'Renal function improved with IV fluids (creatinine {num} → {num2} mg/dL).',
  'Dr. Patel discussed the plan; the patient agreed to continue {drug} q.d. and follow up.',
  'Oxygen saturation was {pct}% on room air and improved to 96% on 2 L nasal cannula.',
  'No evidence of deep vein thrombosis on ultrasound of both lower extremities.',
  'Blood cultures from day {day} grew no organisms after 5 days of incubation.',
  'Diet: cardiac, 2 g sodium; activity as tolerated; wound care daily.',
];

/** A paragraph of exactly `words` whitespace-separated words of clinical-style text. */
export function longClinicalNote(words = 2000, seed = 20261126): string {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const fill: Record<string, () => string> = {
    age: () => String(int(18, 95)),
    dx: () => pick(DIAGNOSES),
    dx2: () => pick(DIAGNOSES),
    dx3: () => pick(DIAGNOSES),
    drug: () => pick(DRUGS),
    drug2: () => pick(DRUGS),
    dose: () => String(pick([5, 10, 20, 40, 500, 1000])),
    dose2: () => String(pick([2.5, 25, 81, 250])),
    lab: () => pick(LABS),
    num: () => (int(5, 250) / 10).toFixed(1),
    num2: () => (int(5, 250) / 10).toFixed(1),
    day: () => String(int(1, 9)),
    temp: () => (int(365, 403) / 10).toFixed(1),
    hr: () => String(int(55, 130)),
    sys: () => String(int(90, 180)),
    dia: () => String(int(50, 100)),
    pct: () => String(int(25, 99)),
  };
  const out: string[] = [];
  while (out.length < words) {
    const sentence = pick(SENTENCES).replace(/\{(\w+)\}/g, (_, key: string) => fill[key]());
    out.push(...sentence.split(' '));
  }
  return out.slice(0, words).join(' ');
}

// ---------------------------------------------------------------------------------------------
// Tokenizers (each generated from the texts; deterministic)

/** Pre-tokenized words of `texts` with their counts, as the JS library splits them. */
function countWords(pipeline: object, texts: readonly string[]): Map<string, number> {
  const preTokenize = createPreTokenizer({ ...pipeline, model: { type: 'WordPiece', unk_token: '[UNK]', vocab: { '[UNK]': 0 } } });
  const counts = new Map<string, number>();
  for (const text of texts) for (const word of preTokenize(text)) counts.set(word, (counts.get(word) ?? 0) + 1);
  return counts;
}

/**
 * Learns BPE merges: repeatedly merges the most frequent adjacent pair (ties to the smaller
 * pair text). Plain recounting; the inputs are a few thousand words.
 * @returns the merges in rank order
 */
function learnMerges(words: { symbols: string[]; count: number }[], maxMerges: number, minFrequency: number): [string, string][] {
  const merges: [string, string][] = [];
  for (let m = 0; m < maxMerges; m++) {
    const counts = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]}\u0000${symbols[i + 1]}`;
        counts.set(key, (counts.get(key) ?? 0) + count);
      }
    }
    let best: string | undefined;
    let bestCount = 0;
    for (const [key, count] of counts) {
      if (count > bestCount || (count === bestCount && best !== undefined && key < best)) [best, bestCount] = [key, count];
    }
    if (best === undefined || bestCount < minFrequency) break;
    const [a, b] = best.split('\u0000');
    merges.push([a, b]);
    for (const word of words) {
      const s = word.symbols;
      const merged: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) merged.push(s[i++] + b);
        else merged.push(s[i]);
      }
      word.symbols = merged;
    }
  }
  return merges;
}

function addedToken(content: string, id: number) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

function bpeModel(vocab: string[], merges: [string, string][], options: { unk?: string; endOfWordSuffix?: string; fuseUnk?: boolean }) {
  return {
    type: 'BPE',
    dropout: null,
    unk_token: options.unk ?? null,
    continuing_subword_prefix: null,
    end_of_word_suffix: options.endOfWordSuffix ?? null,
    fuse_unk: options.fuseUnk ?? false,
    byte_fallback: false,
    ignore_merges: false,
    vocab: Object.fromEntries(vocab.map((token, id) => [token, id])),
    merges,
  };
}

/** Adds the tokens merges produce, in merge order, after `vocab`. */
function withMerged(vocab: string[], merges: [string, string][]): string[] {
  const out = [...vocab];
  const known = new Set(out);
  for (const [a, b] of merges) {
    if (!known.has(a + b)) {
      known.add(a + b);
      out.push(a + b);
    }
  }
  return out;
}

/** (a) BERT-uncased style WordPiece trained with the project's own trainer. */
function wordPieceUncased(texts: readonly string[]): object {
  return wordPieceTokenizerJson(trainWordPiece(texts, { vocabSize: 600, minFrequency: 2 }));
}

/** (b) Cased WordPiece (no lower-casing, accents kept). trainWordPiece is uncased, so the
 * vocabulary is the uncased one plus every character of the cased words (word-initial and
 * `##` forms) plus Capitalized forms of the word-initial pieces. */
function wordPieceCased(texts: readonly string[]): object {
  const normalizer = { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: false, lowercase: false };
  const vocab = trainWordPiece(texts, { vocabSize: 600, minFrequency: 2 });
  const known = new Set(vocab);
  const add = (token: string) => {
    if (!known.has(token)) {
      known.add(token);
      vocab.push(token);
    }
  };
  const words = countWords({ normalizer, pre_tokenizer: { type: 'BertPreTokenizer' } }, texts);
  const chars = new Set<string>();
  for (const [word, count] of words) if (count >= 2) for (const c of word) chars.add(c);
  for (const c of [...chars].sort()) {
    add(c);
    add(`##${c}`);
  }
  for (const token of [...vocab]) {
    if (!token.startsWith('##') && !token.startsWith('[') && [...token].length > 1) add(token[0].toUpperCase() + token.slice(1));
  }
  return { ...wordPieceTokenizerJson(vocab), normalizer };
}

/** The 256 characters GPT-2's byte-level BPE uses for bytes, in byte order. */
function byteLevelAlphabet(): string[] {
  const map: string[] = new Array(256);
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    map[b] = String.fromCharCode(printable ? b : 256 + shifted++);
  }
  return map;
}

/** (c) GPT-2 style byte-level BPE: 256 byte symbols plus learned merges. */
function byteLevelBpe(texts: readonly string[], addPrefixSpace: boolean): object {
  const byteLevel = { type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: addPrefixSpace, use_regex: true };
  const words = countWords({ normalizer: null, pre_tokenizer: byteLevel }, texts);
  const merges = learnMerges(
    [...words].sort().map(([w, count]) => ({ symbols: Array.from(w), count })),
    300,
    2,
  );
  const vocab = withMerged(byteLevelAlphabet(), merges);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [addedToken('<|endoftext|>', vocab.length)],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: bpeModel([...vocab, '<|endoftext|>'], merges, {}),
  };
}

/** Characters seen at least twice: rarer ones stay out of the alphabet and become unknown. */
function alphabetOf(words: Map<string, number>): Set<string> {
  const counts = new Map<string, number>();
  for (const [word, count] of words) for (const c of word) counts.set(c, (counts.get(c) ?? 0) + count);
  return new Set([...counts].filter(([, count]) => count >= 2).map(([c]) => c));
}

/** (d) BPE with an end-of-word suffix (BioGPT / fastBPE style), split on whitespace and
 * punctuation runs. */
function endOfWordBpe(texts: readonly string[]): object {
  const pipeline = {
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Lowercase' }] },
    // Punctuation runs stay together ("Contiguous"): the JS library always groups them.
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Punctuation', behavior: 'Contiguous' }] },
  };
  const suffix = '</w>';
  const words = countWords(pipeline, texts);
  const alphabet = alphabetOf(words);
  const symbolsOf = (w: string) => Array.from(w).map((c, i, all) => (i === all.length - 1 ? c + suffix : c));
  const trainable = [...words].sort().filter(([w]) => [...w].every((c) => alphabet.has(c)));
  const merges = learnMerges(
    trainable.map(([w, count]) => ({ symbols: symbolsOf(w), count })),
    400,
    2,
  );
  const specials = ['<unk>', '<pad>', '<s>', '</s>'];
  const chars = [...alphabet].sort().flatMap((c) => [c, c + suffix]);
  const vocab = withMerged([...specials, ...chars], merges);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((t, id) => addedToken(t, id)),
    ...pipeline,
    post_processor: null,
    decoder: { type: 'BPEDecoder', suffix },
    model: bpeModel(vocab, merges, { unk: '<unk>', endOfWordSuffix: suffix }),
  };
}

/** (e) SentencePiece-like: NFKC, Metaspace `▁` (prepend_scheme "first"), BPE with fused
 * unknowns (as converted Llama-style tokenizers have, minus byte fallback). */
function metaspaceBpe(texts: readonly string[]): object {
  const metaspace = { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: true };
  const pipeline = { normalizer: { type: 'NFKC' }, pre_tokenizer: metaspace };
  // The JS pre-tokenizer does not split on ▁ (the model sees whole sections); split here as
  // the native one does, so that merges never span words.
  const words = new Map<string, number>();
  for (const [section, count] of countWords(pipeline, texts)) {
    for (const w of section.split(/(?=\u2581)/u)) if (w) words.set(w, (words.get(w) ?? 0) + count);
  }
  const alphabet = alphabetOf(words);
  const trainable = [...words].sort().filter(([w]) => [...w].every((c) => alphabet.has(c)));
  const merges = learnMerges(
    trainable.map(([w, count]) => ({ symbols: Array.from(w), count })),
    400,
    2,
  );
  const specials = ['<unk>', '<s>', '</s>'];
  const vocab = withMerged([...specials, ...[...alphabet].sort()], merges);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((t, id) => addedToken(t, id)),
    ...pipeline,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: metaspace,
    model: bpeModel(vocab, merges, { unk: '<unk>', fuseUnk: true }),
  };
}

/** (e') The same pipeline with a Unigram model over the BPE vocabulary: each piece scored by
 * its log frequency in the training words' BPE segmentation (plus a tiny rank term, so that no
 * two segmentations tie and both libraries pick the same one). Unknown characters fuse. */
function metaspaceUnigram(texts: readonly string[]): object {
  const bpe = metaspaceBpe(texts) as { model: { vocab: Record<string, number> }; added_tokens: unknown[] };
  const js = new Tokenizer(bpe, {});
  const counts = new Map<string, number>();
  for (const text of texts) for (const token of js.encode(text, { add_special_tokens: false }).tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
  // In id order (Object.keys would put integer-like pieces such as "1" first).
  const pieces = Object.entries(bpe.model.vocab)
    .sort((a, b) => a[1] - b[1])
    .map(([piece]) => piece);
  const total = [...counts.values()].reduce((a, b) => a + b, 0) + pieces.length;
  const vocab = pieces.map((piece, rank) => [piece, Math.log(((counts.get(piece) ?? 0) + 1) / total) - rank * 1e-6] as [string, number]);
  return { ...bpe, model: { type: 'Unigram', unk_id: 0, vocab, byte_fallback: false } };
}

/** The generated tokenizers, by name. */
export const TOKENIZERS: Record<string, (texts: readonly string[]) => object> = {
  'wordpiece-uncased': wordPieceUncased,
  'wordpiece-cased': wordPieceCased,
  'bytelevel-bpe': (texts) => byteLevelBpe(texts, false),
  'bytelevel-bpe-prefix-space': (texts) => byteLevelBpe(texts, true),
  'eow-bpe': endOfWordBpe,
  'metaspace-bpe': metaspaceBpe,
  'metaspace-unigram': metaspaceUnigram,
};

// ---------------------------------------------------------------------------------------------
// Golden files

/** UTF-16 index of every code-point index of `text` (one entry past the end too). */
function codePointToUtf16(text: string): Int32Array {
  const map = new Int32Array([...text].length + 1);
  let cp = 0;
  for (let i = 0; i < text.length; i++) {
    map[cp++] = i;
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  map[cp] = text.length;
  return map;
}

/** Fails loudly if the binding's offset unit is not what the conversion assumes. */
async function codePointOffsetsAreUsed(native: NativeModule): Promise<void> {
  const probe = wordPieceTokenizerJson([...SPECIAL_TOKENS, 'a', 'b']);
  const encoding = await native.Tokenizer.fromString(JSON.stringify(probe)).encode('a \u{1F600} b', null, { addSpecialTokens: false });
  const offsets = encoding.getOffsets();
  // In code points "b" starts at 4; in UTF-16 at 5; in UTF-8 bytes at 7.
  if (offsets.length !== 3 || offsets[2][0] !== 4) {
    throw new Error(`unexpected offset unit from the native binding: ${JSON.stringify(offsets)}`);
  }
}

async function goldenTexts(native: NativeTokenizer, texts: readonly NamedText[]): Promise<GoldenText[]> {
  const out: GoldenText[] = [];
  for (const { name, text } of texts) {
    const encoding = await native.encode(text, null, { addSpecialTokens: false });
    const toUtf16 = codePointToUtf16(text);
    out.push({
      name,
      tokens: encoding.getTokens(),
      ids: encoding.getIds(),
      offsets: encoding.getOffsets().map(([s, e]) => [toUtf16[s], toUtf16[e]] as [number, number]),
    });
  }
  return out;
}

/** Texts where the JS library's ids differ from the reference's. */
function jsDisagreements(json: object, golden: readonly GoldenText[], texts: readonly NamedText[]): string[] {
  const js = new Tokenizer(json, {});
  return golden.filter((g, i) => JSON.stringify(js.encode(texts[i].text, { add_special_tokens: false }).ids) !== JSON.stringify(g.ids)).map((g) => g.name);
}

/** JSON with one line per array of numbers or strings (readable diffs, modest size). */
function stringify(value: unknown, indent = ''): string {
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || (Array.isArray(v) && v.every((x) => typeof x === 'number')))) {
    return JSON.stringify(value);
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) return `[\n${value.map((v) => inner + stringify(v, inner)).join(',\n')}\n${indent}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${stringify(v, inner)}`);
    return `{\n${entries.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

/** JSON string with invisible characters (controls, format characters, separators other than
 * the space, combining marks) written as \\u escapes, so that texts.json stays reviewable. */
function visibleJson(text: string): string {
  return JSON.stringify(text).replace(/(?! )[\p{Cc}\p{Cf}\p{Z}\p{M}\p{Co}\p{Cn}]/gu, (c) =>
    Array.from({ length: c.length }, (_, i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''),
  );
}

function loadNative(moduleDir: string | undefined): { native: NativeModule; version: string } {
  // A plain require: the package is not a dependency, so nothing may import it statically.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = (id: string) => require(id) as unknown;
  const id = moduleDir ? path.resolve(moduleDir) : 'tokenizers';
  const native = load(id) as NativeModule;
  const version = (load(moduleDir ? path.join(id, 'package.json') : 'tokenizers/package.json') as { version: string }).version;
  return { native, version };
}

async function main() {
  const { values } = parseArgs({
    options: {
      'tokenizers-module': { type: 'string' },
      dir: { type: 'string', default: path.join('test', 'fixtures', 'tokenization') },
      'tiny-model': { type: 'string', default: path.join('test', 'fixtures', 'tiny-model', 'tokenizer.json') },
    },
  });
  const dir = path.resolve(values.dir!);
  const { native, version } = loadNative(values['tokenizers-module']);
  await codePointOffsetsAreUsed(native);

  const textsFile = path.join(dir, 'texts.json');
  const texts = (JSON.parse(readFileSync(textsFile, 'utf8')) as NamedText[]).map((t) => (t.name === LONG_NOTE_NAME ? { ...t, text: longClinicalNote() } : t));
  writeFileSync(textsFile, `[\n${texts.map((t) => `  { "name": ${visibleJson(t.name)}, "text": ${visibleJson(t.text)} }`).join(',\n')}\n]\n`);
  const training = texts.filter((t) => !HELD_OUT.has(t.name)).map((t) => t.text);

  const sources: { name: string; file: string; json: object; generator: string }[] = Object.entries(TOKENIZERS).map(([name, make]) => ({
    name,
    file: `${name}.tokenizer.json`,
    json: make(training),
    generator: `generated by the "${name}" generator of src/tools/generate-golden-offsets.ts`,
  }));
  for (const s of sources) writeFileSync(path.join(dir, s.file), `${JSON.stringify(s.json, null, 1)}\n`);
  const tinyFile = path.resolve(values['tiny-model']!);
  sources.push({
    name: 'tiny-model',
    file: path.relative(dir, tinyFile),
    json: JSON.parse(readFileSync(tinyFile, 'utf8')),
    generator: 'the tiny test model (npm run generate:test-model)',
  });

  for (const s of sources) {
    const golden = await goldenTexts(native.Tokenizer.fromString(JSON.stringify(s.json)), texts);
    const disagreements = jsDisagreements(s.json, golden, texts);
    if (disagreements.length > 0) {
      console.error(`${s.name}: @huggingface/tokenizers ids differ from the native ones on: ${disagreements.join(', ')}`);
    }
    const file: GoldenFile = {
      description: `Reference encodings (no special tokens) of texts.json by ${s.file} (${s.generator}), made by src/tools/generate-golden-offsets.ts. Offsets are UTF-16 code units [start, end), converted from the native binding's Unicode code-point offsets.`,
      reference: `tokenizers@${version} (Hugging Face native binding)`,
      tokenizer: s.file.split(path.sep).join('/'),
      offsetUnit: 'utf16',
      libraryDiffers: disagreements,
      texts: golden,
    };
    writeFileSync(path.join(dir, `golden-${s.name}.json`), `${stringify(file)}\n`);
    console.log(`golden-${s.name}.json: ${golden.reduce((n, g) => n + g.ids.length, 0)} tokens`);
  }
}

if (require.main === module) {
  main().catch((error: Error) => {
    console.error(error.stack ?? error.message);
    process.exit(1);
  });
}
