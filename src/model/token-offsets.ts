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
 *
 * The reference is the Hugging Face native library's `offsets` (golden tests in
 * test/unit/model/token-offsets.test.ts), except that our spans never start or end on
 * whitespace: a token that stands only for whitespace (a lone `Ġ`, `▁`, tab…) or for a
 * space the pre-tokenizer added (`add_prefix_space`, Metaspace `prepend_scheme`) gets an
 * empty span where it stood.
 *
 * How: the text becomes a "stream", the normalized text as one string with, for each of its
 * UTF-16 units, the source span and flags (whitespace, punctuation). Tokens are matched with
 * `startsWith` on that string. For speed, per-character normalizations and flags are cached
 * across calls and the stream lives in typed arrays.
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
  /** BPE `fuse_unk` (and Unigram): one unknown token stands for a run of unknown characters. */
  fuseUnk?: boolean;
  /** Added tokens the library finds in the raw (not normalized) text, e.g. `[CLS]`, `<unk>`:
   * a note that contains one literally gets that token. */
  addedTokens?: readonly string[];
}

export interface TokenOffsets {
  /** Start of token i at `[2i]`, end (exclusive) at `[2i + 1]`. */
  offsets: Int32Array;
  /** Tokens that could not be matched to the text (given an empty span); 0 in normal use. */
  unaligned: number;
}

const SEARCH_WINDOW = 256;

// Character classes, per code point, cached in a table (regex tests are slow per character).
const SPACE = 1; // Unicode White_Space: never at the edge of a span
const DROP = 2; // JavaScript's \s: what the library's pre-tokenizers split on and drop
const PUNCT = 4; // BERT punctuation: Unicode P* plus ASCII symbols (pre-token boundary)
const MARK = 8; // combining mark: composing normalizers (NFC, NFKC) join it to its base
const KNOWN = 0x80;
const BMP_FLAGS = new Uint8Array(0x10000);
const ASTRAL_FLAGS = new Map<number, number>();

function flagsOf(cp: number): number {
  if (cp < 0x10000) {
    const f = BMP_FLAGS[cp];
    if (f) return f;
  } else {
    const f = ASTRAL_FLAGS.get(cp);
    if (f !== undefined) return f;
  }
  const ch = String.fromCodePoint(cp);
  const f =
    KNOWN |
    (/\p{White_Space}/u.test(ch) ? SPACE : 0) |
    // Differs from White_Space on U+FEFF (only \s) and U+0085 (only White_Space).
    (/\s/u.test(ch) ? DROP : 0) |
    (/[\p{P}\u0021-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u007E]/u.test(ch) ? PUNCT : 0) |
    (/\p{M}/u.test(ch) ? MARK : 0);
  if (cp < 0x10000) BMP_FLAGS[cp] = f;
  else ASTRAL_FLAGS.set(cp, f);
  return f;
}

/** Whether UTF-16 unit c is Unicode White_Space (all of which are in the BMP). */
function isSpace(c: number): boolean {
  return c < 0x80 ? c === 0x20 || (c >= 0x09 && c <= 0x0d) : (flagsOf(c) & SPACE) !== 0;
}

/** Per-normalizer cache of normalized characters (BMP by code; others and clusters by text). */
interface NormalizationCache {
  bmp: (string | undefined)[];
  /** Per BMP code: its normalization when that is one BMP character; -2 otherwise; -1 not yet known. */
  unit: Int32Array;
  /** Flags of `unit[c]`. */
  unitFlags: Uint8Array;
  other: Map<string, string>;
}
const caches = new WeakMap<(ch: string) => string, NormalizationCache>();

function cacheFor(normalizeChar: (ch: string) => string): NormalizationCache {
  let cache = caches.get(normalizeChar);
  if (!cache) {
    cache = {
      bmp: new Array<string | undefined>(0x10000).fill(undefined),
      unit: new Int32Array(0x10000).fill(-1),
      unitFlags: new Uint8Array(0x10000),
      other: new Map(),
    };
    caches.set(normalizeChar, cache);
  }
  return cache;
}

/** The normalized text as one string, with the source span and flags of each UTF-16 unit. */
interface Stream {
  norm: string;
  start: Int32Array;
  end: Int32Array;
  flags: Uint8Array;
}

/**
 * Aligns tokens (as returned by the tokenizer, without special tokens) with the text.
 * @param text - the note text the tokens were produced from
 * @param tokens - token strings, in order
 * @param scheme - how the tokenizer marks pieces
 * @param normalizeChar - the tokenizer's normalizer applied to one character; pass the same
 *   function on every call (its results are cached per function)
 */
export function alignTokenOffsets(text: string, tokens: readonly string[], scheme: OffsetScheme, normalizeChar: (ch: string) => string): TokenOffsets {
  const stream = toStream(text, scheme, normalizeChar);
  const { norm, start: srcStart, end: srcEnd, flags } = stream;
  const n = norm.length;
  const spaceMarker = scheme.byteLevel ? BYTE_TO_CHAR[0x20] : scheme.metaspace;
  const keepsWhitespace = scheme.byteLevel || scheme.metaspace !== undefined;
  const added = scheme.addedTokens && scheme.addedTokens.length > 0 ? new Set(scheme.addedTokens) : undefined;
  const offsets = new Int32Array(tokens.length * 2);
  let unaligned = 0;
  let p = 0; // next unit of the stream
  let lastEnd = 0;
  const span = new Int32Array(3); // start, end (source; start -1 if only whitespace), next unit

  /** The first unit from q on that is not dropped whitespace, or that `surface` starts with.
   * Byte-level and Metaspace pre-tokenizers drop nothing: their tokens cover all whitespace. */
  const skipSpaceBefore = (q: number, surface: string): number => {
    if (keepsWhitespace) return q;
    const first = surface.charCodeAt(0);
    while (q < n && flags[q] & DROP && norm.charCodeAt(q) !== first) q++;
    return q;
  };

  /** Matches `surface` at unit q (leading stream whitespace skipped unless the surface
   * starts with it); fills `span`. */
  const matchSurface = (from: number, surface: string): boolean => {
    let q = skipSpaceBefore(from, surface);
    let to: number;
    if (norm.startsWith(surface, q)) to = q + surface.length;
    else if (surface.length > 0 && surface[0] === spaceMarker) {
      // A space marker with no space in the text: the pre-tokenizer added it
      // (`add_prefix_space`, Metaspace `prepend_scheme`). A lone marker consumes nothing.
      const rest = surface.slice(1);
      q = rest ? skipSpaceBefore(from, rest) : from;
      if (!norm.startsWith(rest, q)) return false;
      to = q + rest.length;
    } else return false;
    return spanOver(q, to);
  };

  /** Fills `span` with the source span of units [q, to), less whitespace at either end
   * (start -1 if nothing is left). Like the native library, characters the normalizer
   * removed between two covered units are inside the span. */
  const spanOver = (q: number, to: number): true => {
    let s = q < to ? srcStart[q] : 0;
    let e = q < to ? srcEnd[to - 1] : 0;
    while (s < e && isSpace(text.charCodeAt(s))) s++;
    while (e > s && isSpace(text.charCodeAt(e - 1))) e--;
    span[0] = s < e ? s : -1;
    span[1] = e;
    span[2] = to;
    return true;
  };

  /** An added token found literally in the raw text at unit q. */
  const matchAdded = (q: number, content: string): boolean => {
    q = skipSpaceBefore(q, content);
    if (q >= n || !text.startsWith(content, srcStart[q])) return false;
    const s = srcStart[q];
    const e = s + content.length;
    while (q < n && srcStart[q] < e) q++;
    span[0] = s;
    span[1] = e;
    span[2] = q;
    return true;
  };

  /** Whether token k can start at unit q (used to end a fused unknown run). */
  const startsAt = (k: number, q: number): boolean => {
    if (k >= tokens.length) return false;
    const token = tokens[k];
    if (added?.has(token) && text.startsWith(token, srcStart[q])) return true;
    return token !== scheme.unkToken && norm.startsWith(surfaceText(token, scheme), q);
  };

  /** The unknown token at unit q: a whole pre-token (WordPiece), a run of characters the next
   * token does not start in (fused), or one character (BPE). */
  const matchUnknown = (q: number, k: number): boolean => {
    // Byte-level and Metaspace tokens contain whitespace: an unknown token can be a tab or a
    // line separator.
    if (!keepsWhitespace) while (q < n && flags[q] & DROP) q++;
    if (q >= n) return false;
    const from = q;
    if (scheme.unkSpansWord && !(flags[q] & PUNCT)) {
      // Unit by unit: the spaces BERT puts around a CJK character share its source span.
      q++;
      while (q < n && !(flags[q] & (DROP | PUNCT))) q++;
    } else if (scheme.fuseUnk) {
      q = nextChar(stream, q);
      while (q < n && !(keepsWhitespace ? norm[q] === spaceMarker : flags[q] & DROP) && !startsAt(k + 1, q)) q = nextChar(stream, q);
    } else {
      q = nextChar(stream, q);
    }
    return spanOver(from, q);
  };

  for (let k = 0; k < tokens.length; k++) {
    const token = tokens[k];
    let found = false;
    if (added?.has(token)) found = matchAdded(p, token);
    if (!found && token === scheme.unkToken) found = matchUnknown(p, k);
    else if (!found) {
      let surface = surfaceText(token, scheme);
      found = matchSurface(p, surface);
      if (!found && surface.includes('\u03c2')) {
        // The library lower-cases whole texts: a word-final Σ becomes ς, per character σ.
        surface = surface.replaceAll('\u03c2', '\u03c3');
        found = matchSurface(p, surface);
      }
      // Recovery: a character the normalizer handles differently in context (rare). Look
      // ahead for the token and continue from there.
      if (!found && surface.length > 0) {
        const limit = Math.min(n, p + SEARCH_WINDOW);
        for (let q = norm.indexOf(surface, p + 1); !found && q >= 0 && q < limit; q = norm.indexOf(surface, q + 1)) {
          found = matchSurface(q, surface);
        }
      }
    }
    if (found && span[0] >= 0) {
      offsets[2 * k] = span[0];
      offsets[2 * k + 1] = span[1];
      lastEnd = span[1];
      p = span[2];
    } else if (found) {
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

/** The unit after the character (all units of one source character, and both halves of a
 * surrogate pair) that starts at unit q. */
function nextChar(stream: Stream, q: number): number {
  const { norm, start } = stream;
  const s = start[q];
  q++;
  while (q < norm.length && start[q] === s) q++;
  return q;
}

/** The text a token stands for in the stream: piece markers removed. (Metaspace `▁` stays:
 * the stream has it in place of the space.) */
function surfaceText(token: string, scheme: OffsetScheme): string {
  let s = token;
  const prefix = scheme.continuingPrefix;
  if (prefix && s.length > prefix.length && s.startsWith(prefix)) s = s.slice(prefix.length);
  const suffix = scheme.endOfWordSuffix;
  if (suffix && s.length > suffix.length && s.endsWith(suffix)) s = s.slice(0, -suffix.length);
  return s;
}

/** The characters a token stands for in the normalized text, markers removed (Metaspace
 * `▁` as a space). */
export function surfaceOf(token: string, scheme: OffsetScheme): string[] {
  const s = surfaceText(token, scheme);
  return Array.from(scheme.metaspace ? s.split(scheme.metaspace).join(' ') : s);
}

/** Builds the stream: the text normalized per character (per base character plus its
 * combining marks where the normalizer composes them), mapped to UTF-8 byte characters for
 * byte-level BPE and with the Metaspace replacement for spaces. */
function toStream(text: string, scheme: OffsetScheme, normalizeChar: (ch: string) => string): Stream {
  const cache = cacheFor(normalizeChar);
  let capacity = text.length + 16;
  let units = new Uint16Array(capacity);
  let start = new Int32Array(capacity);
  let end = new Int32Array(capacity);
  let flags = new Uint8Array(capacity);
  let n = 0;
  const byteLevel = scheme.byteLevel;
  const spaceUnit = scheme.metaspace ? scheme.metaspace.charCodeAt(0) : 0x20;

  const grow = (need: number) => {
    if (n + need <= capacity) return;
    capacity = Math.max(capacity * 2, n + need);
    const copy = <T extends Uint16Array | Int32Array | Uint8Array>(a: T, b: T): T => (b.set(a), b);
    units = copy(units, new Uint16Array(capacity));
    start = copy(start, new Int32Array(capacity));
    end = copy(end, new Int32Array(capacity));
    flags = copy(flags, new Uint8Array(capacity));
  };

  /** Appends normalized text `norm` standing for source `[s, e)`. */
  const emit = (norm: string, s: number, e: number) => {
    grow(byteLevel ? norm.length * 3 : norm.length);
    for (let j = 0; j < norm.length; j++) {
      let cp = norm.charCodeAt(j);
      const pair = cp >= 0xd800 && cp <= 0xdbff && j + 1 < norm.length && (norm.charCodeAt(j + 1) & 0xfc00) === 0xdc00;
      if (pair) cp = norm.codePointAt(j)!;
      const f = flagsOf(cp) & (SPACE | DROP | PUNCT);
      const first = n;
      if (!byteLevel) {
        units[n++] = cp === 0x20 ? spaceUnit : norm.charCodeAt(j);
        if (pair) units[n++] = norm.charCodeAt(j + 1);
      } else if (cp < 0x80) {
        // UTF-8 bytes, each as GPT-2's printable character for it.
        units[n++] = BYTE_TO_CODE[cp];
      } else if (cp < 0x800) {
        units[n++] = BYTE_TO_CODE[0xc0 | (cp >> 6)];
        units[n++] = BYTE_TO_CODE[0x80 | (cp & 0x3f)];
      } else if (cp < 0x10000) {
        units[n++] = BYTE_TO_CODE[0xe0 | (cp >> 12)];
        units[n++] = BYTE_TO_CODE[0x80 | ((cp >> 6) & 0x3f)];
        units[n++] = BYTE_TO_CODE[0x80 | (cp & 0x3f)];
      } else {
        units[n++] = BYTE_TO_CODE[0xf0 | (cp >> 18)];
        units[n++] = BYTE_TO_CODE[0x80 | ((cp >> 12) & 0x3f)];
        units[n++] = BYTE_TO_CODE[0x80 | ((cp >> 6) & 0x3f)];
        units[n++] = BYTE_TO_CODE[0x80 | (cp & 0x3f)];
      }
      for (let u = first; u < n; u++) {
        start[u] = s;
        end[u] = e;
        flags[u] = f;
      }
      if (pair) j++;
    }
  };

  const normalizeOne = (i: number, len: number): string => {
    if (len === 1) return cachedBmp(cache, text.charCodeAt(i), normalizeChar);
    return cachedOther(cache, text.slice(i, i + len), normalizeChar);
  };

  const length = text.length;
  let i = 0;
  while (i < length) {
    const c = text.charCodeAt(i);
    // Fast path: a BMP character not followed by anything that could be a combining mark,
    // normalized to one BMP character (nearly every character of a note).
    if ((c & 0xf800) !== 0xd800 && (i + 1 === length || text.charCodeAt(i + 1) < 0x300)) {
      let m = cache.unit[c];
      if (m === -1) {
        cachedBmp(cache, c, normalizeChar);
        m = cache.unit[c];
      }
      if (m >= 0 && (!byteLevel || m < 0x80)) {
        if (n === capacity) grow(1);
        units[n] = byteLevel ? BYTE_TO_CODE[m] : m === 0x20 ? spaceUnit : m;
        start[n] = i;
        end[n] = i + 1;
        flags[n++] = cache.unitFlags[c];
        i++;
        continue;
      }
    }
    const len = charLength(text, i);
    let next = i + len;
    // Combining marks after this character form a cluster with it.
    while (next < length && text.charCodeAt(next) >= 0x300 && flagsOf(text.codePointAt(next)!) & MARK) next += charLength(text, next);
    if (next === i + len) emit(normalizeOne(i, len), i, next);
    else emitCluster(i, next);
    i = next;
  }

  /** A base character and its combining marks. Normalized one by one where that gives the
   * same text (exact per-character spans, e.g. BERT's accent stripping); otherwise (NFC/NFKC
   * composed them) as a whole, aligned as the native library does: the first output
   * character to the base, the others to the last source characters, in order. */
  function emitCluster(from: number, to: number) {
    const parts: [string, number, number][] = [];
    for (let j = from; j < to;) {
      const len = charLength(text, j);
      parts.push([normalizeOne(j, len), j, j + len]);
      j += len;
    }
    const whole = cachedOther(cache, text.slice(from, to), normalizeChar);
    if (parts.map((part) => part[0]).join('') === whole) {
      for (const [norm, s, e] of parts) emit(norm, s, e);
      return;
    }
    const out = Array.from(whole);
    out.forEach((ch, j) => {
      const source = parts[j === 0 ? 0 : Math.max(0, parts.length - out.length + j)];
      emit(ch, source[1], source[2]);
    });
  }

  return { norm: unitsToString(units, n), start: start.subarray(0, n), end: end.subarray(0, n), flags: flags.subarray(0, n) };
}

/** The normalization of an astral character or a cluster. The cache is bounded: notes can
 * bring endless combinations of combining marks. */
function cachedOther(cache: NormalizationCache, chars: string, normalizeChar: (ch: string) => string): string {
  let r = cache.other.get(chars);
  if (r === undefined) {
    if (cache.other.size >= 10_000) cache.other.clear();
    cache.other.set(chars, (r = normalizeChar(chars)));
  }
  return r;
}

/** The normalization of BMP character `c`, computed once per normalizer; also records
 * whether it is a single BMP character (and its flags) for the fast path. */
function cachedBmp(cache: NormalizationCache, c: number, normalizeChar: (ch: string) => string): string {
  let r = cache.bmp[c];
  if (r === undefined) {
    cache.bmp[c] = r = normalizeChar(String.fromCharCode(c));
    const m = r.length === 1 ? r.charCodeAt(0) : -2;
    cache.unit[c] = m >= 0 && (m & 0xf800) !== 0xd800 ? m : -2;
    cache.unitFlags[c] = cache.unit[c] >= 0 ? flagsOf(m) & (SPACE | DROP | PUNCT) : 0;
  }
  return r;
}

/** 2 for a surrogate pair at i, else 1. */
function charLength(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 2;
  }
  return 1;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** UTF-16 units to a string. Buffer's UTF-16LE decoding is the fastest way and, unlike
 * TextDecoder, keeps lone surrogates (the library keeps them too). */
function unitsToString(units: Uint16Array, n: number): string {
  if (LITTLE_ENDIAN) return Buffer.from(units.buffer, units.byteOffset, n * 2).toString('utf16le');
  const CHUNK = 8192; // apply() takes a bounded number of arguments
  let out = '';
  for (let i = 0; i < n; i += CHUNK) {
    out += String.fromCharCode.apply(null, units.subarray(i, Math.min(n, i + CHUNK)) as unknown as number[]);
  }
  return out;
}

/** GPT-2's reversible byte → printable character map used by byte-level BPE: printable
 * Latin-1 bytes stand for themselves, the others are shifted to U+0100 and above. */
const BYTE_TO_CODE: Uint16Array = (() => {
  const map = new Uint16Array(256);
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    map[b] = printable ? b : 256 + shifted++;
  }
  return map;
})();
const BYTE_TO_CHAR: string[] = Array.from(BYTE_TO_CODE, (code) => String.fromCharCode(code));
