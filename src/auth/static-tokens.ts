/**
 * Static bearer tokens for the FHIR endpoint (`FHIR_TOKENS`), compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digestOf = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * A matcher over the configured tokens. Each comparison hashes the presented token and checks
 * it against every configured digest with `timingSafeEqual`, without stopping at a match, so
 * neither a token's length nor its position in the list shows in the response time.
 * @param tokens - the configured tokens
 * @returns the 1-based position of the matching token (for logs, never the token), or 0
 */
export function staticTokenMatcher(tokens: readonly string[]): (presented: string) => number {
  const digests = tokens.map(digestOf);
  return (presented) => {
    const candidate = digestOf(presented);
    let match = 0;
    digests.forEach((digest, i) => {
      if (timingSafeEqual(digest, candidate) && match === 0) match = i + 1;
    });
    return match;
  };
}
