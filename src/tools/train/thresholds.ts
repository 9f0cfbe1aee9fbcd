/**
 * Decision thresholds tuned on held-out (validation) scores, the same way for every model:
 * one global threshold maximising micro-F1, then a per-code threshold for codes with enough
 * positive documents to estimate one, kept near the global one.
 */
import { computeMetrics, type Scored } from './metrics';

export interface ThresholdOptions {
  /** Fewest positive validation documents for a code to get its own threshold. */
  minSupport: number;
  /** Per-code thresholds stay within global ± this. */
  maxShift: number;
}

export interface Thresholds {
  global: number;
  perCode: Record<string, number>;
}

const grid = (from: number, to: number, step: number) => {
  const values: number[] = [];
  for (let v = from; v <= to + 1e-9; v += step) values.push(Number(v.toFixed(4)));
  return values;
};

/**
 * @param docs - validation documents with scores
 * @param codes - label codes in label order
 * @param options - support and shift limits
 */
export function tuneThresholds(docs: readonly Scored[], codes: readonly string[], options: ThresholdOptions): Thresholds {
  let global = 0.5;
  let best = -1;
  for (const t of grid(0.05, 0.95, 0.01)) {
    const f1 = computeMetrics(docs, codes, () => t).microF1;
    // Ties go to the threshold nearest 0.5, the uninformed default.
    if (f1 > best + 1e-12 || (Math.abs(f1 - best) <= 1e-12 && Math.abs(t - 0.5) < Math.abs(global - 0.5))) {
      best = f1;
      global = t;
    }
  }
  const perCode: Record<string, number> = {};
  codes.forEach((code, l) => {
    const positives = docs.filter((d) => d.gold.has(code)).length;
    if (positives < options.minSupport) return;
    const f1At = (t: number) => labelF1(docs, code, l, t);
    let chosen = global;
    let chosenF1 = f1At(global);
    for (const t of grid(Math.max(0.05, global - options.maxShift), Math.min(0.95, global + options.maxShift), 0.05)) {
      const f1 = f1At(t);
      if (f1 > chosenF1 + 1e-12) {
        chosen = t;
        chosenF1 = f1;
      }
    }
    if (chosen !== global) perCode[code] = chosen;
  });
  return { global, perCode };
}

/** F1 of one label at threshold `t`. */
function labelF1(docs: readonly Scored[], code: string, index: number, t: number): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const doc of docs) {
    const predicted = doc.probabilities[index] >= t;
    const gold = doc.gold.has(code);
    if (predicted && gold) tp++;
    else if (predicted) fp++;
    else if (gold) fn++;
  }
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}
