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

const PAD_TOKENS = ['[PAD]', '<pad>', '<|pad|>', '<|endoftext|>'];

/**
 * Builds a NoteTokenizer from a parsed tokenizer.json.
 * @param json - the parsed tokenizer.json
 * @throws Error naming the problem when the file is not a usable tokenizer
 */
export function createNoteTokenizer(json: unknown): NoteTokenizer {
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

  return {
    prefixIds,
    suffixIds,
    padId,
    unkId,
    vocabSize,
    encode(text: string): NoteTokens {
      const encoding = tokenizer.encode(text, { add_special_tokens: false });
      const { offsets, unaligned } = alignTokenOffsets(text, encoding.tokens, scheme, normalizeChar);
      return { ids: Int32Array.from(encoding.ids), offsets, unaligned };
    },
  };
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
