/**
 * Verification of client JWTs (CDS Hooks 2.0 §Trusting CDS Clients,
 * https://cds-hooks.hl7.org/2.0/#trusting-cds-clients). The only importer of `jose`.
 *
 * Checks, cheapest first, so that a token which cannot pass never costs a key fetch:
 * header (`alg` ES384/RS384 only, `typ` JWT when present, `kid` present) → `iss` trusted →
 * `jku` equal to the issuer's configured one when present → signature with that issuer's
 * keys → `exp`, `iat` (within the clock skew, not older than the maximum token age), `jti`
 * and `aud` present → `aud` names the invoked URL → `jti` not seen before, by any replica:
 * ids are claimed in the store (Store.claimTokenId), which every process shares.
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { audienceNames } from './invoked-url';
import type { Store } from '../store/store';
import { ALLOWED_ALGORITHMS, type TrustedClient } from './trusted-clients';

/**
 * A refused token. `reason` is for the log only: the response never says why (CDS Hooks best
 * practice: a service "should not leak the details" of a failed authentication).
 */
export class AuthFailure extends Error {
  /**
   * @param reason - short, token-free explanation for the log
   * @param iss - the claimed issuer, when the token had one (truncated; may be untrusted)
   */
  constructor(
    readonly reason: string,
    readonly iss?: string,
  ) {
    super(reason);
    this.name = 'AuthFailure';
  }
}

/** Who called, once a token has passed every check. */
export interface VerifiedClient {
  iss: string;
  jti: string;
  /** CDS Hooks 2.0 optional `tenant` claim, when present and a string. */
  tenant?: string;
}

export interface ClientJwtOptions {
  /** Tolerance on `exp` and `iat`, in seconds. */
  clockSkewSeconds: number;
  /** Tokens issued longer ago than this are refused, whatever their `exp` (seconds). */
  maxTokenAgeSeconds?: number;
  /** Timeout of a remote JWK Set fetch, in milliseconds. */
  jwksTimeoutMs?: number;
  /**
   * Claims a token id for its issuer once for every replica (Store.claimTokenId); it rejects
   * with StoreUnavailableError when the store cannot answer, and the token is then refused
   * with 503, never accepted unchecked.
   */
  claimTokenId: Store['claimTokenId'];
  /** Clock (tests pass a fixed one). */
  now?: () => Date;
}

// One hour: clients mint a fresh token per call, so anything older is a stored token. It also
// bounds how long a jti must stay claimed, whatever `exp` the token claims.
const MAX_TOKEN_AGE_SECONDS = 3600;
const MAX_JTI_CHARS = 256;
const MAX_LOGGED_CHARS = 200;

const clip = (value: unknown) => (typeof value === 'string' ? value.slice(0, MAX_LOGGED_CHARS) : undefined);

/**
 * The key resolver of one client: its inline keys, then (when the kid is not among them) its
 * configured JWK Set URL. jose's remote set fetches with a timeout, caches the set and refetches
 * at most once per cooldown when an unknown kid shows up (key rotation).
 * @param client - the trusted client
 * @param timeoutMs - fetch timeout
 */
function keyResolverOf(client: TrustedClient, timeoutMs: number): JWTVerifyGetKey {
  const local = client.jwks ? createLocalJWKSet(client.jwks as JSONWebKeySet) : undefined;
  const remote = client.jku
    ? createRemoteJWKSet(new URL(client.jku), { timeoutDuration: timeoutMs, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 })
    : undefined;
  return async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    if (local) {
      try {
        return await local(header, token);
      } catch (error) {
        if (!remote || (error as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY') throw error;
      }
    }
    return remote!(header, token);
  };
}

/**
 * Turns a jose error into a log reason; anything else (e.g. a network error while fetching
 * a JWK Set) is reported by its message, which never holds the token.
 * @param error - what jwtVerify threw
 */
function reasonOf(error: unknown): string {
  const { code, claim, reason, message } = error as { code?: string; claim?: string; reason?: string; message?: string };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return claim === 'iat' ? 'token too old (iat)' : 'token expired (exp)';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return `claim ${claim} ${reason === 'missing' ? 'missing' : 'invalid'}`;
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'algorithm not allowed';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'signature does not verify';
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'no key of this issuer has this kid';
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'several keys match this kid';
    case 'ERR_JWKS_TIMEOUT':
      return 'JWK Set fetch timed out';
    case 'ERR_JWKS_INVALID':
      return 'JWK Set is invalid';
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return 'malformed token';
    default:
      return `verification failed: ${clip(message) ?? 'unknown error'}`;
  }
}

/**
 * Builds the verifier of client tokens.
 * @param clients - the trusted clients (CDS_CLIENTS)
 * @param options - clock skew, limits and where token ids are claimed
 * @returns verify(token, invokedUrl): the client, or throws AuthFailure (or the store's error)
 */
export function clientJwtVerifier(
  clients: readonly TrustedClient[],
  options: ClientJwtOptions,
): (token: string, invokedUrl: string) => Promise<VerifiedClient> {
  const skew = options.clockSkewSeconds;
  const maxAge = options.maxTokenAgeSeconds ?? MAX_TOKEN_AGE_SECONDS;
  const now = options.now ?? (() => new Date());
  const byIss = new Map(clients.map((c) => [c.iss, { client: c, keyOf: keyResolverOf(c, options.jwksTimeoutMs ?? 5000) }]));

  return async (token, invokedUrl) => {
    if (byIss.size === 0) throw new AuthFailure('no trusted clients are configured');
    let header: JWSHeaderParameters;
    let claimed: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      claimed = decodeJwt(token);
    } catch {
      throw new AuthFailure('malformed token');
    }
    const iss = clip(claimed.iss);
    // Refuse `none`, every HS* (a "secret" could be a public key anyone has) and anything else.
    if (!(ALLOWED_ALGORITHMS as readonly unknown[]).includes(header.alg)) throw new AuthFailure(`algorithm ${clip(String(header.alg))} not allowed`, iss);
    if (header.typ !== undefined && String(header.typ).toUpperCase() !== 'JWT') throw new AuthFailure('typ is not JWT', iss);
    if (typeof header.kid !== 'string' || header.kid === '') throw new AuthFailure('no kid in the header', iss);
    const trusted = typeof claimed.iss === 'string' ? byIss.get(claimed.iss) : undefined;
    if (!trusted) throw new AuthFailure('issuer not trusted', iss);
    // A token's jku is honoured only when it is the one configured for its issuer; any other
    // URL is refused here, before anything could fetch it (SSRF, attacker-supplied keys).
    if (header.jku !== undefined && header.jku !== trusted.client.jku) throw new AuthFailure('jku not configured for this issuer', iss);

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, trusted.keyOf, {
        algorithms: [...ALLOWED_ALGORITHMS],
        issuer: trusted.client.iss,
        requiredClaims: ['exp', 'iat', 'jti', 'aud'],
        clockTolerance: skew,
        maxTokenAge: maxAge,
        currentDate: now(),
      }));
    } catch (error) {
      throw new AuthFailure(reasonOf(error), iss);
    }
    if (!audienceNames(payload.aud, invokedUrl)) throw new AuthFailure('aud does not name the invoked URL', iss);
    const { jti, exp, iat } = payload as { jti: unknown; exp: number; iat: number };
    if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_CHARS) throw new AuthFailure('jti invalid', iss);
    // After this instant the token fails `exp` or the maximum age anyway.
    const keepUntil = new Date((Math.min(exp, iat + maxAge) + skew) * 1000);
    // The verifier's clock judges expiry of claims, as it judges `exp` (docs/store.md §Replay protection).
    if ((await options.claimTokenId(trusted.client.iss, jti, keepUntil, now())) === 'replayed') throw new AuthFailure('jti replayed', iss);
    return { iss: trusted.client.iss, jti, ...(typeof payload.tenant === 'string' ? { tenant: clip(payload.tenant) } : {}) };
  };
}
