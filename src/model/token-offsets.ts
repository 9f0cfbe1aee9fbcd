/**
 * Character offsets of tokens in the original note.
 *
 * @huggingface/tokenizers returns token strings but no offsets, and evidence must point at
 * the exact characters of the note. This aligner walks the token strings against the note,
 * character by character, after applying the tokenizer's own normalizer to each character.
 * Pure functions; imports no tokenizer library.
 *
 * Offsets are UTF-16 code-unit indices into the note text (what `String.prototype.slice`
 * takes); conversion to Unicode code points happens at the output edge.
 */

/** How a tokenizer marks word pieces, read from its tokenizer.json. */
export interface OffsetScheme {
  /** WordPiece continuation marker, e.g. `##`. */
  continuingPrefix?: string;
  /** BPE end-of-word marker, e.g. `</w>` (BioGPT / fastBPE style). */
  endOfWordSuffix?: string;
  /** SentencePiece-style space replacement, e.g. `▁`. */
  metaspace?: string;
  /** Byte-level BPE (GPT-2 style): token characters stand for UTF-8 bytes. */
  byteLevel: boolean;
  /** The unknown token string, e.g. `[UNK]`. */
  unkToken?: string;
  /** WordPiece replaces a whole pre-token by the unknown token; BPE only one character. */
  unkSpansWord: boolean;
}

export interface TokenOffsets {
  /** Start of token i at `[2i]`, end (exclusive) at `[2i + 1]`. */
  offsets: Int32Array;
  /** Tokens that could not be matched to the text (given an empty span); 0 in normal use. */
  unaligned: number;
}

// Pre-tokenizers split on these characters (the BERT definition: Unicode P* plus ASCII
// symbols), so an unknown WordPiece token never extends across one.
const PUNCTUATION = /[\p{P}\u0021-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u007E]/u;
const WHITESPACE = /\s/u;
const SEARCH_WINDOW = 256;

/** The character stream the tokens are matched against: one unit per normalized character
 * (or per UTF-8 byte for byte-level BPE), each remembering its source span. */
interface Units {
  chars: string[];
  start: Int32Array;
  end: Int32Array;
  space: Uint8Array;
}

/**
 * Aligns tokens (as returned by the tokenizer, without special tokens) with the text.
 * @param text - the note text the tokens were produced from
 * @param tokens - token strings, in order
 * @param scheme - how the tokenizer marks pieces
 * @param normalizeChar - the tokenizer's normalizer applied to one character
 */
export function alignTokenOffsets(
  text: string,
  tokens: readonly string[],
  scheme: OffsetScheme,
  normalizeChar: (ch: string) => string,
): TokenOffsets {
  const units = toUnits(text, scheme, normalizeChar);
  const n = units.chars.length;
  const offsets = new Int32Array(tokens.length * 2);
  let unaligned = 0;
  let p = 0;
  let lastEnd = 0;

  for (let k = 0; k < tokens.length; k++) {
    const token = tokens[k];
    let span: [number, number, number] | undefined; // start, end, next unit
    if (token === scheme.unkToken) {
      span = matchUnknown(units, p, scheme.unkSpansWord);
    } else {
      const surface = surfaceOf(token, scheme);
      span = matchSurface(units, p, surface);
      if (!span) {
        // Recovery: a character the normalizer handles differently in context (rare). Look
        // ahead for the token's visible part and continue from there.
        for (let q = p + 1; q < Math.min(n, p + SEARCH_WINDOW) && !span; q++) {
          if (!units.space[q]) span = matchSurface(units, q, surface);
        }
      }
    }
    if (span && span[0] >= 0) {
      offsets[2 * k] = span[0];
      offsets[2 * k + 1] = span[1];
      lastEnd = span[1];
      p = span[2];
    } else if (span) {
      // Matched only whitespace (e.g. a lone `Ġ` or `▁` token): an empty span where it stood.
      offsets[2 * k] = offsets[2 * k + 1] = lastEnd;
      p = span[2];
    } else {
      offsets[2 * k] = offsets[2 * k + 1] = lastEnd;
      unaligned++;
    }
  }
  return { offsets, unaligned };
}

/** The characters a token stands for in the normalized text, markers removed. */
export function surfaceOf(token: string, scheme: OffsetScheme): string[] {
  let s = token;
  if (scheme.continuingPrefix && s.length > scheme.continuingPrefix.length && s.startsWith(scheme.continuingPrefix)) {
    s = s.slice(scheme.continuingPrefix.length);
  }
  if (scheme.endOfWordSuffix && s.length > scheme.endOfWordSuffix.length && s.endsWith(scheme.endOfWordSuffix)) {
    s = s.slice(0, -scheme.endOfWordSuffix.length);
  }
  if (scheme.metaspace) s = s.split(scheme.metaspace).join(' ');
  return Array.from(s);
}

function toUnits(text: string, scheme: OffsetScheme, normalizeChar: (ch: string) => string): Units {
  const chars: string[] = [];
  const start: number[] = [];
  const end: number[] = [];
  const space: number[] = [];
  const cache = new Map<string, string>();
  const encoder = scheme.byteLevel ? new TextEncoder() : undefined;
  let i = 0;
  for (const ch of text) {
    const len = ch.length;
    let normalized = cache.get(ch);
    if (normalized === undefined) {
      normalized = normalizeChar(ch);
      cache.set(ch, normalized);
    }
    if (encoder) {
      for (const byte of encoder.encode(normalized)) {
        chars.push(BYTE_TO_CHAR[byte]);
        start.push(i);
        end.push(i + len);
        space.push(byte === 0x20 || (byte >= 0x09 && byte <= 0x0d) ? 1 : 0);
      }
    } else {
      for (const c of normalized) {
        chars.push(c);
        start.push(i);
        end.push(i + len);
        space.push(WHITESPACE.test(c) ? 1 : 0);
      }
    }
    i += len;
  }
  return { chars, start: Int32Array.from(start), end: Int32Array.from(end), space: Uint8Array.from(space) };
}

/** Matches `surface` at unit `p` (leading stream whitespace skipped). Returns the source
 * span of its non-space units (start -1 if it had none) and the next unit, or undefined. */
function matchSurface(units: Units, p: number, surface: string[]): [number, number, number] | undefined {
  const n = units.chars.length;
  let q = p;
  if (surface.length > 0 && !isSpaceToken(surface[0])) {
    while (q < n && units.space[q]) q++;
  }
  let start = -1;
  let end = -1;
  for (let j = 0; j < surface.length; j++) {
    if (q < n && units.chars[q] === surface[j]) {
      if (!units.space[q]) {
        if (start < 0) start = units.start[q];
        end = units.end[q];
      }
      q++;
    } else if (isSpaceToken(surface[j])) {
      // A space marker with no space in the text: the tokenizer's added prefix space
      // (`add_prefix_space`, Metaspace `prepend_scheme`).
      continue;
    } else {
      return undefined;
    }
  }
  return [start, end, q];
}

/** The unknown token: a whole pre-token (WordPiece) or one character (BPE). */
function matchUnknown(units: Units, p: number, wholeWord: boolean): [number, number, number] | undefined {
  const n = units.chars.length;
  let q = p;
  while (q < n && units.space[q]) q++;
  if (q >= n) return undefined;
  const start = units.start[q];
  let end = units.end[q];
  const first = units.chars[q];
  q++;
  if (wholeWord && !PUNCTUATION.test(first)) {
    while (q < n && !units.space[q] && !PUNCTUATION.test(units.chars[q])) {
      end = units.end[q];
      q++;
    }
  } else {
    // All units produced from the same source character belong to it.
    while (q < n && units.start[q] === start) q++;
  }
  return [start, end, q];
}

function isSpaceToken(c: string): boolean {
  return c === ' ' || c === BYTE_TO_CHAR[0x20] || c === BYTE_TO_CHAR[0x0a] || c === BYTE_TO_CHAR[0x09] || c === BYTE_TO_CHAR[0x0d];
}

/** GPT-2's reversible byte → printable character map used by byte-level BPE: printable
 * Latin-1 bytes stand for themselves, the others are shifted to U+0100 and above. */
const BYTE_TO_CHAR: string[] = (() => {
  const map: string[] = new Array(256);
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    map[b] = String.fromCharCode(printable ? b : 256 + shifted++);
  }
  return map;
})();
