/**
 * Pure numeric steps after the model: pooling across windows, sigmoid, thresholds.
 */
import type { Label, Pooling } from './bundle';
import type { Prediction } from './types';

/** Logistic function; multi-label ICD-10 coding scores each code independently. */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * Pools per-window logits into one logit per label.
 * @param logits - row-major `[windows, labels]`
 * @param labels - number of labels
 * @param pooling - `max`: a code found in any window counts; `mean`: average evidence
 */
export function poolLogits(logits: Float32Array, labels: number, pooling: Pooling): Float32Array {
  const windows = logits.length / labels;
  const pooled = new Float32Array(labels).fill(pooling === 'max' ? -Infinity : 0);
  for (let w = 0; w < windows; w++) {
    for (let l = 0; l < labels; l++) {
      const v = logits[w * labels + l];
      pooled[l] = pooling === 'max' ? Math.max(pooled[l], v) : pooled[l] + v / windows;
    }
  }
  return pooled;
}

/**
 * Labels whose probability reaches their threshold, most probable first.
 * @param probabilities - one per label
 * @param labels - the bundle's labels, same order
 * @param thresholds - global and per-code thresholds
 */
export function selectPredictions(
  probabilities: Float32Array,
  labels: readonly Label[],
  thresholds: { global: number; perCode?: Record<string, number> },
): Prediction[] {
  const predictions: Prediction[] = [];
  labels.forEach((label, index) => {
    const threshold = thresholds.perCode?.[label.code] ?? thresholds.global;
    const score = probabilities[index];
    if (score >= threshold) predictions.push({ index, code: label.code, display: label.display, score, threshold });
  });
  return predictions.sort((a, b) => b.score - a.score || a.index - b.index);
}
