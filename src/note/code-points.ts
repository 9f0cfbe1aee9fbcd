/**
 * Code-point offsets of a note: the unit the service publishes evidence in (FHIR
 * derivation-reference offset/length, the audit trail), while JavaScript strings index UTF-16.
 */

/** UTF-16 indices of the low halves of surrogate pairs, per note object (found once per note). */
const pairLowsByNote = new WeakMap<{ readonly text: string }, Int32Array>();

/**
 * Code-point index of UTF-16 index `i` in `note.text` (evidence offsets are published in code
 * points). Every suggestion and audit record converts several offsets of the same note: the
 * note's surrogate pairs are found once, then each index costs a binary search (scanning from
 * the start for each offset took ~1 ms per call on ~1,300-word notes).
 */
export function codePointIndex(note: { readonly text: string }, i: number): number {
  let lows = pairLowsByNote.get(note);
  if (!lows) {
    const found: number[] = [];
    const { text } = note;
    for (let k = 0; k + 1 < text.length; k++) {
      const c = text.charCodeAt(k);
      if (c >= 0xd800 && c <= 0xdbff) {
        const d = text.charCodeAt(k + 1);
        if (d >= 0xdc00 && d <= 0xdfff) found.push(++k);
      }
    }
    lows = Int32Array.from(found);
    pairLowsByNote.set(note, lows);
  }
  // A pair before i counts once: subtract the pairs whose low half lies before i.
  let lo = 0;
  let hi = lows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (lows[mid] < i) lo = mid + 1;
    else hi = mid;
  }
  return i - lo;
}
