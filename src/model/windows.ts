/**
 * Windows and batches: how a note longer than the model's input is covered.
 *
 * Every token of the note is in at least one window (never silently truncated); consecutive
 * windows share `overlap` tokens so a phrase cut by one window boundary is whole in the next.
 * Each window gets the tokenizer's special tokens; batches are right-padded.
 */

/** A window: note tokens `[start, end)`. */
export interface TokenWindow {
  start: number;
  end: number;
}

/**
 * Windows covering `tokenCount` tokens.
 * @param tokenCount - number of note tokens (without special tokens)
 * @param contentLength - note tokens per window (model length minus special tokens)
 * @param overlap - tokens shared by consecutive windows; must be smaller than contentLength
 */
export function planWindows(tokenCount: number, contentLength: number, overlap: number): TokenWindow[] {
  if (!(contentLength > 0) || !(overlap >= 0) || overlap >= contentLength) {
    throw new Error(`window of ${contentLength} tokens cannot overlap by ${overlap}`);
  }
  const windows: TokenWindow[] = [];
  const step = contentLength - overlap;
  for (let start = 0; ; start += step) {
    const end = Math.min(tokenCount, start + contentLength);
    windows.push({ start, end });
    if (end >= tokenCount) break;
  }
  return windows;
}

/** One model call's inputs. */
export interface Batch {
  windows: TokenWindow[];
  /** Row-major `[windows.length, seqLen]`. */
  ids: Int32Array;
  mask: Int32Array;
  seqLen: number;
  /** Position in the sequence of the first note token (after the prefix special tokens). */
  contentOffset: number;
}

/**
 * Builds right-padded batches of windows, each framed by the special tokens.
 * @param ids - the note's token ids
 * @param windows - from planWindows
 * @param batchSize - windows per model call
 * @param special - ids to put before and after each window, and the padding id
 */
export function buildBatches(
  ids: Int32Array,
  windows: TokenWindow[],
  batchSize: number,
  special: { prefixIds: readonly number[]; suffixIds: readonly number[]; padId: number },
): Batch[] {
  const batches: Batch[] = [];
  const { prefixIds, suffixIds, padId } = special;
  for (let b = 0; b < windows.length; b += batchSize) {
    const group = windows.slice(b, b + batchSize);
    const longest = Math.max(...group.map((w) => w.end - w.start));
    const seqLen = prefixIds.length + longest + suffixIds.length;
    const batchIds = new Int32Array(group.length * seqLen).fill(padId);
    const mask = new Int32Array(group.length * seqLen);
    group.forEach((w, row) => {
      const sequence = [...prefixIds, ...ids.subarray(w.start, w.end), ...suffixIds];
      batchIds.set(sequence, row * seqLen);
      mask.fill(1, row * seqLen, row * seqLen + sequence.length);
    });
    batches.push({ windows: group, ids: batchIds, mask, seqLen, contentOffset: prefixIds.length });
  }
  return batches;
}
