/**
 * Evidence from the model's own per-token output: the passages whose tokens push a code's
 * score up the most. Faithful by construction when the model's token scores are its logit
 * contributions; with attention-style scores it shows where the model looked.
 */
import type { Classification } from '../model/types';
import { passageAt, type Span } from './passages';

export interface ScoredSpan extends Span {
  /** How much the passage supports the code: here the sum of its positive token scores for
   * the code; with occlusion.ts, the drop of the code's logit when the passage is deleted. */
  support: number;
}

/**
 * Up to `max` passages supporting label `labelIndex`, strongest first.
 * @param classification - with tokenScores
 * @param labelIndex - the label's index in the bundle
 * @param passages - passagesOf(note text)
 * @param max - at most this many passages
 */
export function supportingPassages(classification: Classification, labelIndex: number, passages: readonly Span[], max: number): ScoredSpan[] {
  const { tokenScores, tokenOffsets, tokenCount } = classification;
  if (!tokenScores) return [];
  const labels = tokenScores.length / Math.max(1, tokenCount);
  const support = new Map<number, number>();
  for (let t = 0; t < tokenCount; t++) {
    const score = tokenScores[t * labels + labelIndex];
    if (!(score > 0)) continue;
    const p = passageAt(passages, tokenOffsets[2 * t]);
    if (p >= 0) support.set(p, (support.get(p) ?? 0) + score);
  }
  return strongestPassages(support, passages, max);
}

/**
 * The passages to quote for one code, strongest first: at most `max`, and only those with at
 * least a quarter of the strongest one's support. Shared by every evidence method so that
 * they quote by the same policy.
 * @param support - positive support by passage index
 * @param passages - passagesOf(note text)
 * @param max - at most this many passages
 */
export function strongestPassages(support: ReadonlyMap<number, number>, passages: readonly Span[], max: number): ScoredSpan[] {
  const ranked = [...support.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  if (ranked.length === 0) return [];
  // Keep passages that carry a meaningful share of the strongest one's support, so a card
  // does not quote incidental mentions.
  const floor = ranked[0][1] * 0.25;
  return ranked
    .filter(([, s]) => s >= floor)
    .slice(0, max)
    .map(([p, s]) => ({ ...passages[p], support: s }));
}
