/**
 * The only importer of @huggingface/tokenizers.
 *
 * Loads a bundle's tokenizer.json and encodes whole notes into token ids with exact character
 * offsets (the library gives none: see token-offsets.ts). Special tokens are not added here:
 * windows.ts adds them to every window, so long notes are never truncated.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { alignTokenOffsets, type OffsetScheme } from './token-offsets';

export interface NoteTokens {
  /** Token ids of the note, without special tokens. */
  ids: Int32Array;
  /** UTF-16 offsets: token i spans `[offsets[2i], offsets[2i+1])` of the note text. */
  offsets: Int32Array;
  /** Tokens the aligner could not place (reported, never silently dropped). */
  unaligned: number;
}

export interface NoteTokenizer {
  encode(text: string): NoteTokens;
  /** Special token ids the tokenizer puts before / after a sequence (e.g. [CLS] / [SEP]). */
  readonly prefixIds: readonly number[];
  readonly suffixIds: readonly number[];
  /** Id used to pad a batch; undefined when the tokenizer names no pad token. */
  readonly padId: number | undefined;
  /** Id that replaces out-of-vocabulary ids (never needed for ids from this tokenizer). */
  readonly unkId: number | undefined;
  /** One more than the largest id the tokenizer can produce. */
  readonly vocabSize: number;
  /** Words in the word cache now (0 when the tokenizer is not word-separable). */
  readonly cachedWords: number;
}

/** Subset of the tokenizer.json format we read to learn the piece markers. */
interface TokenizerJson {
  model?: {
    type?: string;
    unk_token?: string | null;
    continuing_subword_prefix?: string | null;
    end_of_word_suffix?: string | null;
    fuse_unk?: boolean;
    /** Unigram names its unknown token by id: `vocab[unk_id][0]`. */
    unk_id?: number | null;
    vocab?: unknown;
  };
  added_tokens?: { content: string; normalized?: boolean }[];
  normalizer?: unknown;
  pre_tokenizer?: TokenizerJsonStep | null;
  padding?: { pad_id?: number } | null;
}
interface TokenizerJsonStep {
  type?: string;
  replacement?: string;
  pretokenizers?: TokenizerJsonStep[];
}

/** One word's tokens: ids, and UTF-16 offsets relative to the word's start. */
interface WordTokens {
  ids: Int32Array;
  offsets: Int32Array;
}

const PAD_TOKENS = ['[PAD]', '<pad>', '<|pad|>', '<|endoftext|>'];

export interface NoteTokenizerOptions {
  /**
   * Whitespace-separated words whose tokens are remembered (0: none). Only used when the
   * tokenizer is word-separable (see wordSeparable); otherwise every note is encoded whole.
   */
  wordCacheSize?: number;
}

/**
 * Words remembered by default. Clinical notes repeat their vocabulary, so after a few notes
 * most words of a new one are known: on ~1,300-word MTSamples notes this took tokenizing
 * from ~7 ms (the library's WordPiece tries every prefix of every word) to ~1 ms. 65,536
 * words of ~10 tokens take ~20 MB. The words stay in this process's memory only (never
 * logged or written), like the notes themselves while they are analysed.
 */
export const DEFAULT_WORD_CACHE_SIZE = 65_536;

/**
 * Builds a NoteTokenizer from a parsed tokenizer.json.
 * @param json - the parsed tokenizer.json
 * @param options - word cache size
 * @throws Error naming the problem when the file is not a usable tokenizer
 */
export function createNoteTokenizer(json: unknown, options: NoteTokenizerOptions = {}): NoteTokenizer {
  if (!json || typeof json !== 'object' || !('model' in json)) {
    throw new Error('tokenizer.json has no "model" section');
  }
  const spec = json as TokenizerJson;
  const tokenizer = new Tokenizer(json, {});
  const scheme = offsetSchemeOf(spec);
  const normalizer = tokenizer.normalizer;
  const normalizeChar = normalizer ? (ch: string) => normalizer.normalize(ch) : (ch: string) => ch;
  const { prefixIds, suffixIds } = specialTokensOf(tokenizer);
  const vocab = tokenizer.get_vocab(true);
  let vocabSize = 0;
  for (const id of vocab.values()) vocabSize = Math.max(vocabSize, id + 1);
  const padId = spec.padding?.pad_id ?? PAD_TOKENS.map((t) => vocab.get(t)).find((id) => id !== undefined);
  const unkId = scheme.unkToken !== undefined ? vocab.get(scheme.unkToken) : undefined;
  const separatorTest = wordSeparable(spec, normalizeChar);
  const cacheSize = options.wordCacheSize ?? DEFAULT_WORD_CACHE_SIZE;
  const wordCache = new Map<string, WordTokens>();

  return {
    prefixIds,
    suffixIds,
    padId,
    unkId,
    vocabSize,
    get cachedWords() {
      return wordCache.size;
    },
    encode: separatorTest && cacheSize > 0 ? (text) => encodeByWord(text) ?? encodeWhole(text) : encodeWhole,
  };

  function encodeWhole(text: string): NoteTokens {
    const encoding = tokenizer.encode(text, { add_special_tokens: false });
    const { offsets, unaligned } = alignTokenOffsets(text, encoding.tokens, scheme, normalizeChar);
    return { ids: Int32Array.from(encoding.ids), offsets, unaligned };
  }

  /**
   * The same tokens as encodeWhole, put together word by word from the cache; the words not
   * in it are encoded in one library call (joined by a space) and then remembered. Undefined
   * when a new word's tokens cannot be told apart by their offsets (an unaligned or empty
   * span, or a span across two words): the caller encodes the note whole.
   */
  function encodeByWord(text: string): NoteTokens | undefined {
    const isSeparator = separatorTest!;
    const starts: number[] = [];
    const words: string[] = [];
    for (let i = 0; i < text.length;) {
      while (i < text.length && isSeparator(text.charCodeAt(i))) i++;
      if (i >= text.length) break;
      const start = i;
      while (i < text.length && !isSeparator(text.charCodeAt(i))) i++;
      starts.push(start);
      words.push(text.slice(start, i));
    }
    // One lookup per word; read before remembering, since a note with more new words than
    // the cache holds evicts its own.
    const found = words.map((w) => wordCache.get(w));
    const missing = [...new Set(words.filter((_, w) => found[w] === undefined))];
    const encoded = missing.length > 0 ? encodeWords(missing) : new Map<string, WordTokens>();
    if (encoded === undefined) return undefined;
    const pieces = found.map((piece, w) => piece ?? encoded.get(words[w])!);
    for (const [word, piece] of encoded) {
      // Oldest first out: Map iterates in insertion order.
      if (wordCache.size >= cacheSize) wordCache.delete(wordCache.keys().next().value!);
      wordCache.set(ownCopy(word), piece);
    }
    let count = 0;
    for (const piece of pieces) count += piece.ids.length;
    const ids = new Int32Array(count);
    const offsets = new Int32Array(count * 2);
    let t = 0;
    pieces.forEach((piece, w) => {
      ids.set(piece.ids, t);
      for (let k = 0; k < piece.offsets.length; k++) offsets[2 * t + k] = piece.offsets[k] + starts[w];
      t += piece.ids.length;
    });
    return { ids, offsets, unaligned: 0 };
  }

  /** Each word's tokens, by encoding `words` in one library call; undefined if they cannot be told apart. */
  function encodeWords(words: string[]): Map<string, WordTokens> | undefined {
    const joined = words.join(' ');
    const { ids, offsets, unaligned } = encodeWhole(joined);
    if (unaligned > 0) return undefined;
    const found = new Map<string, WordTokens>();
    let t = 0;
    let wordStart = 0;
    for (const word of words) {
      const wordEnd = wordStart + word.length;
      const first = t;
      while (t < ids.length && offsets[2 * t] < wordEnd) {
        if (offsets[2 * t] < wordStart || offsets[2 * t + 1] > wordEnd || offsets[2 * t] >= offsets[2 * t + 1]) return undefined;
        t++;
      }
      const relative = offsets.slice(2 * first, 2 * t);
      for (let k = 0; k < relative.length; k++) relative[k] -= wordStart;
      found.set(word, { ids: ids.slice(first, t), offsets: relative });
      wordStart = wordEnd + 1;
    }
    return t === ids.length ? found : undefined;
  }
}

/**
 * A copy of `word` that does not share the note's memory: V8 makes a slice of 13 or more
 * characters a view of the whole string, so a cached word would keep its note alive.
 */
function ownCopy(word: string): string {
  return Buffer.from(word, 'utf16le').toString('utf16le');
}

const WORD_SPLITTING_PRE_TOKENIZERS = new Set(['BertPreTokenizer', 'Whitespace', 'WhitespaceSplit']);
const WORD_LOCAL_PRE_TOKENIZERS = new Set([...WORD_SPLITTING_PRE_TOKENIZERS, 'Punctuation', 'Digits']);
// Normalizers that map each character on its own, or compose only a character with the
// combining marks after it (NFC, NFKC), which never starts at whitespace.
const WORD_LOCAL_NORMALIZERS = new Set(['BertNormalizer', 'Lowercase', 'NFC', 'NFD', 'NFKC', 'NFKD', 'StripAccents']);

/**
 * Whether encoding a note word by word gives the tokens of encoding it whole, and if so,
 * which UTF-16 units separate words: those the pre-tokenizer splits on and drops (JavaScript
 * `\s`, the library's test) once normalized, and that the normalizer keeps as whitespace (a
 * character it deletes, e.g. U+FEFF under clean_text, joins its neighbours into one word).
 *
 * True of BERT-style tokenizers: normalizer and pre-tokenizer act within words, and the model
 * (WordPiece, BPE, Unigram) within pre-tokens. Not of byte-level BPE or Metaspace, whose
 * tokens carry the spaces, of Split and Replace (patterns may span words), nor of added
 * tokens containing whitespace: those notes are encoded whole.
 */
function wordSeparable(spec: TokenizerJson, normalizeChar: (ch: string) => string): ((unit: number) => boolean) | undefined {
  const preTokenizers = flatten(spec.pre_tokenizer);
  if (!preTokenizers.some((s) => WORD_SPLITTING_PRE_TOKENIZERS.has(s.type ?? ''))) return undefined;
  if (!preTokenizers.every((s) => WORD_LOCAL_PRE_TOKENIZERS.has(s.type ?? ''))) return undefined;
  if (!flattenNormalizers(spec.normalizer).every((n) => WORD_LOCAL_NORMALIZERS.has(n.type ?? ''))) return undefined;
  if ((spec.added_tokens ?? []).some((t) => /\s/u.test(t.content))) return undefined;
  const known = new Int8Array(0x10000); // 0 not yet known, 1 separator, 2 not
  return (unit) => {
    let k = known[unit];
    if (k === 0) {
      const ch = String.fromCharCode(unit);
      const normalized = /\s/u.test(ch) ? normalizeChar(ch) : '';
      k = known[unit] = normalized.length > 0 && /^\s+$/u.test(normalized) ? 1 : 2;
    }
    return k === 1;
  };
}

function flattenNormalizers(step: unknown): { type?: string }[] {
  if (!step || typeof step !== 'object') return [];
  const n = step as { type?: string; normalizers?: unknown[] };
  return n.type === 'Sequence' ? (n.normalizers ?? []).flatMap(flattenNormalizers) : [n];
}

function offsetSchemeOf(spec: TokenizerJson): OffsetScheme {
  const model = spec.model ?? {};
  const steps = flatten(spec.pre_tokenizer);
  const metaspace = steps.find((s) => s.type === 'Metaspace');
  return {
    continuingPrefix: model.continuing_subword_prefix ?? (model.type === 'WordPiece' ? '##' : undefined),
    endOfWordSuffix: model.end_of_word_suffix ?? undefined,
    metaspace: metaspace ? (metaspace.replacement ?? '\u2581') : undefined,
    byteLevel: steps.some((s) => s.type === 'ByteLevel'),
    unkToken: model.unk_token ?? unigramUnknown(model),
    unkSpansWord: model.type === 'WordPiece',
    // Unigram always fuses unknowns (in both libraries); BPE when the file says so.
    fuseUnk: model.type === 'Unigram' || model.fuse_unk === true,
    // The library looks for these in the raw text, before normalizing (the others are
    // matched in the normalized text like any token).
    addedTokens: (spec.added_tokens ?? []).filter((t) => !t.normalized || !spec.normalizer).map((t) => t.content),
  };
}

function unigramUnknown(model: NonNullable<TokenizerJson['model']>): string | undefined {
  if (model.type !== 'Unigram' || typeof model.unk_id !== 'number' || !Array.isArray(model.vocab)) return undefined;
  const entry: unknown = model.vocab[model.unk_id];
  return Array.isArray(entry) && typeof entry[0] === 'string' ? entry[0] : undefined;
}

function flatten(step: TokenizerJsonStep | null | undefined): TokenizerJsonStep[] {
  if (!step) return [];
  return step.type === 'Sequence' ? (step.pretokenizers ?? []).flatMap(flatten) : [step];
}

/** The post-processor's special tokens, found by encoding a probe with and without them. */
function specialTokensOf(tokenizer: Tokenizer): { prefixIds: number[]; suffixIds: number[] } {
  const probe = 'a';
  const bare = tokenizer.encode(probe, { add_special_tokens: false }).ids;
  const full = tokenizer.encode(probe, { add_special_tokens: true }).ids;
  for (let at = 0; at + bare.length <= full.length; at++) {
    if (bare.every((id, j) => full[at + j] === id)) {
      return { prefixIds: full.slice(0, at), suffixIds: full.slice(at + bare.length) };
    }
  }
  throw new Error('tokenizer.json post-processor changes the tokens of a sequence; cannot window it');
}

/**
 * The normalizer and pre-tokenizer of a tokenizer.json, as one function text → words.
 * Tokenizer training uses it so that training and serving split text identically.
 * @param json - a tokenizer.json (its model section may be a placeholder)
 */
export function createPreTokenizer(json: unknown): (text: string) => string[] {
  // The library insists on every pipeline section; the ones not used here may be null.
  const tokenizer = new Tokenizer({ added_tokens: [], post_processor: null, decoder: null, ...(json as object) }, {});
  const normalizer = tokenizer.normalizer;
  const preTokenizer = tokenizer.pre_tokenizer;
  return (text: string) => {
    const normalized = normalizer ? normalizer.normalize(text) : text;
    return preTokenizer ? preTokenizer.pre_tokenize_text(normalized) : normalized.split(/\s+/u).filter(Boolean);
  };
}
