/**
 * CORS for browser-based clients (CDS Hooks 2.0 §Cross-Origin Resource Sharing: "CDS
 * Services and browser-based CDS Clients will require CORS support").
 *
 * Preflight (OPTIONS) is answered here, before any router, so it never needs a token:
 * browsers send no Authorization header on preflight. Access is controlled by the bearer
 * token, not by the origin, and credentials (cookies) are never allowed, so `*` is safe as
 * the default; CORS_ORIGINS narrows it to a list.
 */
import type { RequestHandler } from 'express';

const ALLOWED_METHODS = 'GET, POST, OPTIONS';
const ALLOWED_HEADERS = 'Authorization, Content-Type, Accept';
// Readable by the calling page: the 401 challenge and the id to quote when reporting a problem.
const EXPOSED_HEADERS = 'WWW-Authenticate, X-Request-Id';

/**
 * @param origins - `['*']` or the allowed origins (scheme://host[:port])
 */
export function corsMiddleware(origins: readonly string[]): RequestHandler {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin && (any || allowed.has(origin))) {
      res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin);
      res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    }
    if (!any) res.vary('Origin');
    if (req.method !== 'OPTIONS') return next();
    if (origin && (any || allowed.has(origin))) {
      res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
    }
    res.setHeader('Allow', ALLOWED_METHODS);
    res.status(204).end();
  };
}
