/**
 * WordPiece vocabulary training and the tokenizer.json that serves it.
 *
 * Learns pieces the way WordPiece trainers commonly do: start from characters (word-initial
 * and `##`-continuation forms) and repeatedly merge the most frequent adjacent pair, counted
 * over word frequencies. Words come from the same normalizer and pre-tokenizer that serve
 * (model/tokenizer.ts createPreTokenizer), so training and serving cannot drift.
 * Deterministic: ties are broken by the pair's text.
 */
import { createPreTokenizer } from '../../model/tokenizer';

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
const PREFIX = '##';

export interface WordPieceOptions {
  /** Vocabulary size to stop at (special tokens and alphabet included). */
  vocabSize: number;
  /** Pairs seen fewer times are never merged. */
  minFrequency: number;
}

/** The tokenizer.json sections before the model: BERT-style lower-casing, accent stripping,
 * control-character cleaning, and splitting on whitespace and punctuation. */
function pipelineJson() {
  return {
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
  };
}

/**
 * A complete tokenizer.json for a WordPiece vocabulary.
 * @param vocab - tokens in id order; must start with SPECIAL_TOKENS
 */
export function wordPieceTokenizerJson(vocab: readonly string[]): Record<string, unknown> {
  const ids = Object.fromEntries(vocab.map((token, id) => [token, id]));
  const special = (token: string) => ({ id: token, type_id: 0 });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content) => ({
      id: ids[content],
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    ...pipelineJson(),
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: special('[CLS]') }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: special('[SEP]') }],
      pair: [
        { SpecialToken: special('[CLS]') },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: special('[SEP]') },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: Object.fromEntries(['[CLS]', '[SEP]'].map((t) => [t, { id: t, ids: [ids[t]], tokens: [t] }])),
    },
    decoder: { type: 'WordPiece', prefix: PREFIX, cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: PREFIX, max_input_chars_per_word: 100, vocab: ids },
  };
}

/**
 * Trains a WordPiece vocabulary.
 * @param texts - training documents
 * @param options - target size and minimum pair frequency
 * @returns tokens in id order, special tokens first
 */
export function trainWordPiece(texts: Iterable<string>, options: WordPieceOptions): string[] {
  const preTokenize = createPreTokenizer({ ...pipelineJson(), model: { type: 'WordPiece', unk_token: '[UNK]', vocab: { '[UNK]': 0 } } });
  const wordCounts = new Map<string, number>();
  for (const text of texts) {
    for (const word of preTokenize(text)) wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);
  }
  // Sorted for determinism: Map order would depend on document order only, but sorting makes
  // the vocabulary independent of it too.
  const words = [...wordCounts.keys()].sort();
  const counts = words.map((w) => wordCounts.get(w)!);
  const symbols = words.map((w) => Array.from(w).map((c, i) => (i === 0 ? c : PREFIX + c)));

  const vocab: string[] = [...SPECIAL_TOKENS];
  const known = new Set(vocab);
  const add = (token: string) => {
    if (!known.has(token)) {
      known.add(token);
      vocab.push(token);
    }
  };
  [...new Set(symbols.flat())].sort().forEach(add);

  const pairCount = new Map<string, number>();
  const pairWords = new Map<string, Set<number>>();
  const heap = new PairHeap();
  const bump = (key: string, word: number, delta: number) => {
    const next = (pairCount.get(key) ?? 0) + delta;
    pairCount.set(key, next);
    if (delta > 0) {
      let set = pairWords.get(key);
      if (!set) pairWords.set(key, (set = new Set()));
      set.add(word);
    }
    if (next > 0) heap.push(next, key);
  };
  const countPairs = (w: number, delta: number) => {
    const s = symbols[w];
    for (let i = 0; i + 1 < s.length; i++) bump(pairKey(s[i], s[i + 1]), w, delta * counts[w]);
  };
  words.forEach((_, w) => countPairs(w, 1));

  while (vocab.length < options.vocabSize) {
    const best = heap.popValid(pairCount);
    if (!best || best.count < options.minFrequency) break;
    const [a, b] = best.key.split('\u0000');
    const merged = a + b.slice(PREFIX.length);
    add(merged);
    // Taken out first: re-counting a word may re-create the entry for pairs left in it.
    const where = pairWords.get(best.key) ?? new Set<number>();
    pairWords.delete(best.key);
    for (const w of where) {
      countPairs(w, -1);
      symbols[w] = mergeSymbols(symbols[w], a, b, merged);
      countPairs(w, 1);
    }
  }
  return vocab;
}

function pairKey(a: string, b: string): string {
  return `${a}\u0000${b}`;
}

function mergeSymbols(s: string[], a: string, b: string, merged: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i++) {
    if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
      out.push(merged);
      i++;
    } else {
      out.push(s[i]);
    }
  }
  return out;
}

/** Max-heap of (count, pair) with lazy deletion: stale entries are skipped when popped.
 * Ties go to the lexicographically smaller pair so training is deterministic. */
class PairHeap {
  private items: { count: number; key: string }[] = [];

  push(count: number, key: string) {
    const items = this.items;
    items.push({ count, key });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(items[i], items[parent])) break;
      [items[i], items[parent]] = [items[parent], items[i]];
      i = parent;
    }
  }

  popValid(current: Map<string, number>): { count: number; key: string } | undefined {
    while (this.items.length > 0) {
      const top = this.pop();
      if (current.get(top.key) === top.count) return top;
    }
    return undefined;
  }

  private pop() {
    const items = this.items;
    const top = items[0];
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && this.before(items[l], items[m])) m = l;
        if (r < items.length && this.before(items[r], items[m])) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m], items[i]];
        i = m;
      }
    }
    return top;
  }

  private before(x: { count: number; key: string }, y: { count: number; key: string }) {
    return x.count > y.count || (x.count === y.count && x.key < y.key);
  }
}
