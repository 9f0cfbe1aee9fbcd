/**
 * The one seeded pseudo-random generator of the tools (data splits, control draws, synthetic
 * notes and weights): the same numbers on every machine and Node version.
 */

/**
 * Uniform numbers in [0, 1) from mulberry32 (a 32-bit state; plenty for shuffles and draws).
 * @param seed - any integer
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
