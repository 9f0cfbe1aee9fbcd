import { buildBatches, planWindows } from '../../../src/model/windows';

describe('planWindows', () => {
  test.each([
    [0, 10, 2, [[0, 0]]],
    [5, 10, 2, [[0, 5]]],
    [10, 10, 2, [[0, 10]]],
    [
      11,
      10,
      2,
      [
        [0, 10],
        [8, 11],
      ],
    ],
    [
      26,
      10,
      2,
      [
        [0, 10],
        [8, 18],
        [16, 26],
      ],
    ],
    // The seed model's geometry: 1024 positions, 2 special tokens, 124 overlap.
    [
      3000,
      1022,
      124,
      [
        [0, 1022],
        [898, 1920],
        [1796, 2818],
        [2694, 3000],
      ],
    ],
  ])('%i tokens, %i per window, overlap %i', (n, len, overlap, expected) => {
    const windows = planWindows(n, len, overlap);
    expect(windows.map((w) => [w.start, w.end])).toEqual(expected);
  });

  test('every token is covered and consecutive windows share exactly the overlap', () => {
    for (const n of [1, 37, 64, 65, 500, 4097]) {
      const windows = planWindows(n, 62, 8);
      const covered = new Set<number>();
      windows.forEach((w) => {
        for (let t = w.start; t < w.end; t++) covered.add(t);
      });
      expect(covered.size).toBe(n);
      for (let i = 1; i < windows.length; i++) expect(windows[i - 1].end - windows[i].start).toBe(8);
    }
  });

  test.each([
    [10, 10],
    [10, 11],
    [0, 0],
  ])('rejects overlap %i with window %i', (len, overlap) => {
    expect(() => planWindows(5, len, overlap)).toThrow(/cannot overlap/);
  });
});

test('buildBatches frames windows with special tokens and right-pads', () => {
  const ids = Int32Array.from([10, 11, 12, 13, 14]);
  const batches = buildBatches(ids, planWindows(5, 3, 1), 2, { prefixIds: [2], suffixIds: [3], padId: 0 });
  expect(batches).toHaveLength(1);
  const [b] = batches;
  expect(b.seqLen).toBe(5);
  expect(b.contentOffset).toBe(1);
  expect(Array.from(b.ids)).toEqual([2, 10, 11, 12, 3, 2, 12, 13, 14, 3]);
  expect(Array.from(b.mask)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  const [short] = buildBatches(
    ids,
    [
      { start: 0, end: 3 },
      { start: 3, end: 5 },
    ],
    4,
    { prefixIds: [2], suffixIds: [3], padId: 0 },
  );
  expect(Array.from(short.ids)).toEqual([2, 10, 11, 12, 3, 2, 13, 14, 3, 0]);
  expect(Array.from(short.mask)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
});
