/**
 * Fitting the ranker: L2-regularised logistic regression by Newton's method (a few dozen
 * features, a few thousand candidates: exact and fast), isotonic calibration by pool-adjacent-
 * violators, and the figures that judge them (F1 at a threshold, expected calibration error).
 */

export interface Sample {
  x: number[];
  y: 0 | 1;
}

/** Mean and standard deviation of each feature. */
export function scaleOf(samples: readonly Sample[]): { mean: number[]; std: number[] } {
  const d = samples[0]?.x.length ?? 0;
  // Feature 0 is the bias: left as it is (mean 0, spread 1), so it stays 1 after scaling.
  const mean = Array.from({ length: d }, (_, j) => (j === 0 ? 0 : samples.reduce((s, r) => s + r.x[j], 0) / Math.max(1, samples.length)));
  const std = mean.map((m, j) => {
    if (j === 0) return 1;
    const v = samples.reduce((s, r) => s + (r.x[j] - m) ** 2, 0) / Math.max(1, samples.length);
    return v > 1e-12 ? Math.sqrt(v) : 1;
  });
  return { mean, std };
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Solves A x = b (Gaussian elimination with partial pivoting). */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    const pivot = m[c][c] || 1e-12;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c] / pivot;
      if (f !== 0) for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  return m.map((row, i) => row[n] / (row[i] || 1e-12));
}

/**
 * Logistic regression weights on standardized features (the first feature is the bias, which
 * is not penalised and not standardized: its mean is 1 and its spread is 1 by construction).
 * @param samples - feature vectors (raw) and labels
 * @param scale - standardization
 * @param lambda - L2 penalty
 */
export function fitLogistic(samples: readonly Sample[], scale: { mean: number[]; std: number[] }, lambda = 1): number[] {
  const d = scale.mean.length;
  const xs = samples.map((s) => s.x.map((v, j) => (v - scale.mean[j]) / scale.std[j]));
  let w = new Array<number>(d).fill(0);
  for (let iter = 0; iter < 50; iter++) {
    const grad = new Array<number>(d).fill(0);
    const hess = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    xs.forEach((x, i) => {
      const p = sigmoid(x.reduce((z, v, j) => z + v * w[j], 0));
      const r = p - samples[i].y;
      const h = p * (1 - p);
      for (let j = 0; j < d; j++) {
        grad[j] += r * x[j];
        if (x[j] === 0) continue;
        for (let k = 0; k < d; k++) hess[j][k] += h * x[j] * x[k];
      }
    });
    for (let j = 1; j < d; j++) {
      grad[j] += lambda * w[j];
      hess[j][j] += lambda;
    }
    hess[0][0] += 1e-6;
    const step = solve(hess, grad);
    w = w.map((v, j) => v - step[j]);
    if (Math.max(...step.map(Math.abs)) < 1e-7) break;
  }
  return w;
}

/** The logistic score of a raw feature vector. */
export function scoreOf(x: readonly number[], scale: { mean: number[]; std: number[] }, w: readonly number[]): number {
  return sigmoid(x.reduce((z, v, j) => z + ((v - scale.mean[j]) / scale.std[j]) * w[j], 0));
}

/**
 * Isotonic regression of labels on scores (pool adjacent violators): increasing knots, at the
 * mean score of each pooled block with the block's rate of positives. The rate is Laplace's
 * (positives + 1) / (n + 2): a block of 40 right answers out of 40 shows 0.98, not a certainty
 * that 40 cases cannot earn.
 */
export function fitIsotonic(scores: readonly number[], labels: readonly (0 | 1)[]): { x: number[]; y: number[] } {
  const order = scores.map((_s, i) => i).sort((a, b) => scores[a] - scores[b]);
  const blocks: { sum: number; n: number; x: number }[] = [];
  const rate = (b: { sum: number; n: number }) => (b.sum + 1) / (b.n + 2);
  for (const i of order) {
    blocks.push({ sum: labels[i], n: 1, x: scores[i] });
    while (blocks.length > 1 && rate(blocks[blocks.length - 2]) >= rate(blocks[blocks.length - 1])) {
      const b = blocks.pop()!;
      const a = blocks[blocks.length - 1];
      a.x = (a.x * a.n + b.x * b.n) / (a.n + b.n);
      a.sum += b.sum;
      a.n += b.n;
    }
  }
  const round = (v: number) => Number(v.toFixed(6));
  return { x: blocks.map((b) => round(b.x)), y: blocks.map((b) => round(rate(b))) };
}

/** Expected calibration error over `bins` equal-width bins, and the bins (for the reliability plot). */
export function calibrationError(
  probabilities: readonly number[],
  labels: readonly (0 | 1)[],
  bins = 10,
): { ece: number; bins: { from: number; to: number; n: number; confidence: number; rate: number }[] } {
  const out = Array.from({ length: bins }, (_, b) => ({ from: b / bins, to: (b + 1) / bins, n: 0, confidence: 0, rate: 0 }));
  probabilities.forEach((p, i) => {
    const b = Math.min(bins - 1, Math.floor(p * bins));
    out[b].n++;
    out[b].confidence += p;
    out[b].rate += labels[i];
  });
  let ece = 0;
  for (const b of out) {
    if (b.n === 0) continue;
    b.confidence /= b.n;
    b.rate /= b.n;
    ece += (b.n / probabilities.length) * Math.abs(b.confidence - b.rate);
  }
  return { ece, bins: out };
}

/** The threshold that maximises micro-F1 given scored candidates and the number of gold codes. */
export function bestThreshold(scored: readonly { p: number; y: 0 | 1 }[], goldTotal: number): { threshold: number; f1: number } {
  const sorted = [...scored].sort((a, b) => b.p - a.p);
  let tp = 0;
  let best = { threshold: 0.5, f1: 0 };
  sorted.forEach((s, i) => {
    tp += s.y;
    const precision = tp / (i + 1);
    const recall = tp / Math.max(1, goldTotal);
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    if (f1 > best.f1 && (i + 1 === sorted.length || sorted[i + 1].p < s.p)) best = { threshold: s.p, f1 };
  });
  return best;
}
