/**
 * The ranker's calibration map (src/tools/ranker/fit.ts): increasing, never a certainty a block
 * of cases cannot earn, and a reliability figure that notices a miscalibrated score.
 */
import { calibrationError, fitIsotonic } from '../../../src/tools/ranker/fit';
import { calibrated } from '../../../src/engine/ranker';

test('isotonic knots increase, and a block of all-right cases shows (n + 1) / (n + 2), not 1', () => {
  const scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
  const labels = [0, 0, 1, 0, 1, 1, 1, 1, 1, 1] as const;
  const map = fitIsotonic(scores, labels);
  for (let i = 1; i < map.y.length; i++) {
    expect(map.y[i]).toBeGreaterThan(map.y[i - 1]);
    expect(map.x[i]).toBeGreaterThan(map.x[i - 1]);
  }
  expect(Math.max(...map.y)).toBeLessThan(1);
  expect(Math.min(...map.y)).toBeGreaterThan(0);
  expect(map.y[map.y.length - 1]).toBeCloseTo((6 + 1) / (6 + 2), 6);
  expect(calibrated(map, 0.99)).toBeLessThan(1);
});

test('expected calibration error: near 0 for honest scores, large for overconfident ones', () => {
  const honest: number[] = [];
  const labels: (0 | 1)[] = [];
  for (let i = 0; i < 1000; i++) {
    const p = (i % 10) / 10 + 0.05;
    honest.push(p);
    labels.push((i * 7919) % 1000 < p * 1000 ? 1 : 0);
  }
  expect(calibrationError(honest, labels).ece).toBeLessThan(0.05);
  expect(
    calibrationError(
      honest.map(() => 0.99),
      labels,
    ).ece,
  ).toBeGreaterThan(0.4);
});
