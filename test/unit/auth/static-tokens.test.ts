import { staticTokenMatcher } from '../../../src/auth/static-tokens';

test('the position of the matching token, or 0', () => {
  const match = staticTokenMatcher(['a'.repeat(32), 'b'.repeat(40)]);
  expect(match('b'.repeat(40))).toBe(2);
  expect(match('a'.repeat(32))).toBe(1);
  expect(match('a'.repeat(31))).toBe(0);
  expect(match('')).toBe(0);
  expect(staticTokenMatcher([])('a'.repeat(32))).toBe(0);
});
