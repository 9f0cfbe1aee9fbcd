/**
 * Multi-label evaluation figures, one implementation for every model (trained, baseline,
 * imported): micro/macro F1, micro precision/recall, Hamming loss, precision@5, per code.
 *
 * Definitions:
 * - micro: counts summed over all (document, code) pairs of the label set;
 * - macro F1: the mean of per-code F1 over codes with at least one positive document in the
 *   data (a code absent from the data has no defined recall);
 * - Hamming loss: wrong (document, code) decisions / (documents × codes);
 * - precision@5: per document, the share of its 5 highest-scored codes that are gold, averaged
 *   over documents (independent of thresholds).
 */

export interface CodeFigures {
  code: string;
  support: number;
  predicted: number;
  truePositives: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface Metrics {
  documents: number;
  labels: number;
  microF1: number;
  microPrecision: number;
  microRecall: number;
  macroF1: number;
  /** Codes the macro average is over (those with positives in the data). */
  macroCodes: number;
  hammingLoss: number;
  precisionAt5: number;
  perCode: CodeFigures[];
}

/** Scores of one document: a probability per label, and its gold codes. */
export interface Scored {
  probabilities: ArrayLike<number>;
  gold: ReadonlySet<string>;
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
const f1Of = (tp: number, fp: number, fn: number) => ratio(2 * tp, 2 * tp + fp + fn);

/**
 * @param docs - per document, probabilities (label order) and gold codes
 * @param codes - the label codes, in label order
 * @param thresholdOf - decision threshold of each label index
 */
export function computeMetrics(docs: readonly Scored[], codes: readonly string[], thresholdOf: (index: number) => number): Metrics {
  const L = codes.length;
  const tp = new Array<number>(L).fill(0);
  const fp = new Array<number>(L).fill(0);
  const fn = new Array<number>(L).fill(0);
  let wrong = 0;
  let p5 = 0;
  for (const doc of docs) {
    for (let l = 0; l < L; l++) {
      const predicted = doc.probabilities[l] >= thresholdOf(l);
      const gold = doc.gold.has(codes[l]);
      if (predicted && gold) tp[l]++;
      else if (predicted) fp[l]++;
      else if (gold) fn[l]++;
      if (predicted !== gold) wrong++;
    }
    const top5 = Array.from({ length: L }, (_, l) => l)
      .sort((a, b) => doc.probabilities[b] - doc.probabilities[a] || a - b)
      .slice(0, 5);
    p5 += top5.filter((l) => doc.gold.has(codes[l])).length / Math.min(5, L);
  }
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const perCode: CodeFigures[] = codes.map((code, l) => ({
    code,
    support: tp[l] + fn[l],
    predicted: tp[l] + fp[l],
    truePositives: tp[l],
    precision: ratio(tp[l], tp[l] + fp[l]),
    recall: ratio(tp[l], tp[l] + fn[l]),
    f1: f1Of(tp[l], fp[l], fn[l]),
  }));
  const present = perCode.filter((c) => c.support > 0);
  return {
    documents: docs.length,
    labels: L,
    microF1: f1Of(sum(tp), sum(fp), sum(fn)),
    microPrecision: ratio(sum(tp), sum(tp) + sum(fp)),
    microRecall: ratio(sum(tp), sum(tp) + sum(fn)),
    macroF1: ratio(sum(present.map((c) => c.f1)), present.length),
    macroCodes: present.length,
    hammingLoss: ratio(wrong, docs.length * L),
    precisionAt5: ratio(p5, docs.length),
    perCode,
  };
}

/** Rounds every number of a metrics object to `digits` decimals (for printing and storing). */
export function roundMetrics<T>(value: T, digits = 4): T {
  return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(digits)) : v)));
}
