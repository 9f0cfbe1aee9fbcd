import { ReplayCache } from '../../../src/auth/replay-cache';

test('a jti is refused while live, per issuer, and forgotten after its time', () => {
  let now = 1_000;
  const cache = new ReplayCache(10, () => now);
  expect(cache.remember('a', 'j1', 2_000)).toBe('fresh');
  expect(cache.remember('a', 'j1', 2_000)).toBe('replayed');
  expect(cache.remember('b', 'j1', 2_000)).toBe('fresh');
  now = 2_001;
  expect(cache.remember('a', 'j1', 3_000)).toBe('fresh');
});

test('bounded: expired entries make room; live ones are never evicted, new tokens are refused instead', () => {
  let now = 0;
  const cache = new ReplayCache(3, () => now);
  for (const jti of ['1', '2', '3']) expect(cache.remember('a', jti, jti === '1' ? 10 : 100)).toBe('fresh');
  expect(cache.remember('a', '4', 100)).toBe('full');
  now = 11;
  expect(cache.remember('a', '4', 100)).toBe('fresh');
  expect(cache.size).toBe(3);
  expect(cache.remember('a', '2', 100)).toBe('replayed');
});
