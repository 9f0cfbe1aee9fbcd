import { poolLogits, selectPredictions, sigmoid } from '../../../src/model/postprocess';

test('sigmoid', () => {
  expect(sigmoid(0)).toBe(0.5);
  expect(sigmoid(2)).toBeCloseTo(0.8808, 4);
  expect(sigmoid(-40)).toBeGreaterThan(0);
});

test("max pooling takes each label's best window; mean averages", () => {
  const logits = Float32Array.from([1, -2, 5, 3, -1, 0]); // 2 windows × 3 labels
  expect(Array.from(poolLogits(logits, 3, 'max'))).toEqual([3, -1, 5]);
  expect(Array.from(poolLogits(logits, 3, 'mean'))).toEqual([2, -1.5, 2.5]);
});

test('selectPredictions applies per-code thresholds over the global one, most probable first', () => {
  const labels = [
    { code: 'A00.0', display: 'a' },
    { code: 'B00.0', display: 'b' },
    { code: 'C00.0', display: 'c' },
  ];
  const p = Float32Array.from([0.55, 0.9, 0.45]);
  expect(selectPredictions(p, labels, { global: 0.5 }).map((x) => x.code)).toEqual(['B00.0', 'A00.0']);
  expect(selectPredictions(p, labels, { global: 0.5, perCode: { 'A00.0': 0.6, 'C00.0': 0.4 } }).map((x) => [x.code, x.threshold])).toEqual([
    ['B00.0', 0.5],
    ['C00.0', 0.4],
  ]);
  // A score equal to its threshold is suggested.
  expect(selectPredictions(Float32Array.from([0.5]), labels.slice(0, 1), { global: 0.5 })).toHaveLength(1);
});
