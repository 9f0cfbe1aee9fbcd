/**
 * Authentication middleware, applied per router on the protected routes: CDS service and
 * feedback calls (client JWT), and FHIR $suggest-conditions (client JWT or a static token).
 * Discovery, /fhir/metadata, the conformance resources and CORS preflight stay public.
 *
 * Every refusal is the same 401 OperationOutcome with `WWW-Authenticate: Bearer`; the reason
 * goes to the log (warn), never the token. `AUTH=off` turns both checks off, with a warning at
 * start-up and on every protected request.
 */
import type { Request, RequestHandler } from 'express';
import type { Config } from '../config';
import { unauthorized, unavailable } from '../errors';
import type { Logger } from '../log';
import { StoreUnavailableError, type Store } from '../store/store';
import { AuthFailure, clientJwtVerifier } from './client-jwt';
import { invokedUrlOf } from './invoked-url';
import { staticTokenMatcher } from './static-tokens';
import type { TrustedClient } from './trusted-clients';

/** Who a request was accepted from, in `res.locals.auth` (for logs and the audit trail). */
export type Caller = { scheme: 'jwt'; iss: string; jti: string; tenant?: string } | { scheme: 'static-token'; position: number } | { scheme: 'none' };

export interface Authenticators {
  /** CDS Hooks service and feedback calls: a trusted client's JWT whose aud is the invoked URL. */
  requireCdsClient: RequestHandler;
  /** FHIR $suggest-conditions: a configured static token, or a trusted client's JWT. */
  requireFhirClient: RequestHandler;
}

/** RFC 6750 §2.1: `Authorization: Bearer <token>`; the scheme name is case-insensitive. */
function bearerTokenOf(req: Request): string | undefined {
  return /^Bearer +([^\s]+) *$/i.exec(req.headers.authorization ?? '')?.[1];
}

/**
 * Builds the middleware and logs, once, what the configuration means for callers.
 * @param deps - configuration and logger
 */
export function createAuthenticators(deps: {
  config: Readonly<Config>;
  log: Logger;
  trustedClients: readonly TrustedClient[];
  store: Pick<Store, 'claimTokenId' | 'kind'>;
}): Authenticators {
  const { config, log, trustedClients, store } = deps;
  if (config.auth === 'off') {
    log.warn('AUTH=off: every endpoint accepts calls without authentication; for local development only');
    const open: RequestHandler = (_req, res, next) => {
      log.warn({ requestId: res.locals.requestId }, 'AUTH=off: request accepted without authentication');
      res.locals.auth = { scheme: 'none' } satisfies Caller;
      next();
    };
    return { requireCdsClient: open, requireFhirClient: open };
  }

  if (trustedClients.length === 0) {
    log.warn('no trusted CDS clients (CDS_CLIENTS): every CDS service and feedback call will be refused with 401');
  }
  if (trustedClients.length === 0 && config.fhirTokens.length === 0) {
    log.warn('neither CDS_CLIENTS nor FHIR_TOKENS is set: every $suggest-conditions call will be refused with 401');
  }
  if (!config.publicBaseUrl) {
    log.warn('PUBLIC_BASE_URL is not set: token audiences are checked against the request Host header; set it in production');
  }

  const verifyJwt = clientJwtVerifier(trustedClients, {
    clockSkewSeconds: config.authClockSkewSeconds,
    claimTokenId: (issuer, jti, keepUntil, now) => store.claimTokenId(issuer, jti, keepUntil, now),
  });
  const matchStaticToken = staticTokenMatcher(config.fhirTokens);

  /** Runs `accept`, and turns any failure into the one 401 (503 when the token id cannot be claimed now). */
  const guard =
    (accept: (token: string, req: Request) => Promise<Caller>): RequestHandler =>
    async (req, res, next) => {
      const requestId = res.locals.requestId;
      try {
        const token = bearerTokenOf(req);
        if (!token) throw new AuthFailure('no bearer token');
        const caller = await accept(token, req);
        res.locals.auth = caller;
        log.info({ requestId, ...caller }, 'caller authenticated');
      } catch (error) {
        // Whether the token was used before cannot be told: refused for now, never accepted unchecked.
        if (error instanceof StoreUnavailableError) {
          log.warn({ requestId, store: store.kind, err: { message: error.message } }, 'token id could not be claimed: store unavailable');
          throw unavailable('The service cannot check tokens now; retry later');
        }
        if (!(error instanceof AuthFailure)) throw error;
        log.warn({ requestId, reason: error.reason, ...(error.iss ? { iss: error.iss } : {}) }, 'authentication failed');
        throw unauthorized();
      }
      next();
    };

  const jwtCaller = async (token: string, req: Request): Promise<Caller> => ({
    scheme: 'jwt',
    ...(await verifyJwt(token, invokedUrlOf(req, config.publicBaseUrl))),
  });

  return {
    requireCdsClient: guard(jwtCaller),
    requireFhirClient: guard(async (token, req) => {
      const position = matchStaticToken(token);
      if (position > 0) return { scheme: 'static-token', position };
      // Not a configured token: only a JWT (three dot-separated parts) is worth verifying.
      if (token.split('.').length !== 3) throw new AuthFailure('not a configured token, not a JWT');
      return jwtCaller(token, req);
    }),
  };
}
