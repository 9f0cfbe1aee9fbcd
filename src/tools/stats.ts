/**
 * Summary statistics for every benchmark and measurement tool: one percentile definition, so
 * figures from different commands mean the same thing.
 */

/**
 * The p-th percentile by the nearest-rank method: the smallest value such that at least p% of
 * the values are at or below it (p50 of [1, 2, 3, 4] is 2). NaN when there are no values.
 * @param values - in any order (not modified)
 * @param p - 0–100
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
