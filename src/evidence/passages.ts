/**
 * Passages of a note: the sentences and list items a card may quote as evidence.
 *
 * A passage never crosses a line break. Within a line it ends after `;`, `!` or `?` followed
 * by white space, and after `.` followed by white space and a capital letter, digit or bullet,
 * except after common abbreviations ("Dr.", "e.g.") and list numbers ("1."). Offsets are
 * UTF-16 indices into the note text, trimmed of surrounding white space.
 */

export interface Span {
  start: number;
  end: number;
}

const LINE = /[^\r\n\u2028\u2029]+/gu;
const CANDIDATE_END = /[.!?;](?=\s)/gu;
const NEXT_STARTS_SENTENCE = /^\s+[\p{Lu}\p{N}\-•*]/u;
// Words after which a period rarely ends a sentence in clinical notes.
const ABBREVIATIONS = new Set([
  'dr',
  'mr',
  'mrs',
  'ms',
  'prof',
  'st',
  'vs',
  'no',
  'approx',
  'e.g',
  'i.e',
  'etc',
  'fig',
  'hx',
  'pt',
  'pts',
  'q',
  'b.i.d',
  't.i.d',
  'q.i.d',
  'q.d',
  'p.o',
  'i.v',
]);
const ENUMERATOR = /^\s*(\d{1,3}|[a-zA-Z])$/;

/**
 * Splits a note into passages, in order.
 * @param text - the note text
 */
export function passagesOf(text: string): Span[] {
  const spans: Span[] = [];
  for (const line of text.matchAll(LINE)) {
    const lineStart = line.index!;
    const content = line[0];
    let from = 0;
    for (const end of content.matchAll(CANDIDATE_END)) {
      const at = end.index!;
      if (end[0] === '.' && !endsSentence(content, from, at)) continue;
      pushTrimmed(spans, text, lineStart + from, lineStart + at + 1);
      from = at + 1;
    }
    pushTrimmed(spans, text, lineStart + from, lineStart + content.length);
  }
  return spans;
}

/** Whether the period at `at` ends the sentence begun at `from`. */
function endsSentence(line: string, from: number, at: number): boolean {
  const before = line.slice(from, at);
  if (ENUMERATOR.test(before)) return false;
  // The letters and periods just before, read backwards (an anchored pattern would rescan the
  // whole clause at every period that does not end it).
  let start = at;
  while (start > from) {
    const pair = start - 2 >= from && /[\uDC00-\uDFFF]/.test(line[start - 1]) ? line.slice(start - 2, start) : line[start - 1];
    if (!/^[\p{L}.]+$/u.test(pair)) break;
    start -= pair.length;
  }
  const word = start < at ? line.slice(start, at).toLowerCase() : undefined;
  if (word && ABBREVIATIONS.has(word)) return false;
  return NEXT_STARTS_SENTENCE.test(line.slice(at + 1));
}

function pushTrimmed(spans: Span[], text: string, start: number, end: number) {
  while (start < end && /\s/u.test(text[start])) start++;
  while (end > start && /\s/u.test(text[end - 1])) end--;
  if (end > start) spans.push({ start, end });
}

/** Index of the passage holding UTF-16 position `at` (binary search), or -1. */
export function passageAt(passages: readonly Span[], at: number): number {
  let lo = 0;
  let hi = passages.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (at < passages[mid].start) hi = mid - 1;
    else if (at >= passages[mid].end) lo = mid + 1;
    else return mid;
  }
  return -1;
}
