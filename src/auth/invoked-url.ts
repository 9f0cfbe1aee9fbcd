/**
 * The URL a client invoked, and whether a token's `aud` names it.
 *
 * CDS Hooks 2.0 §Trusting CDS Clients: `aud` is "the CDS Service endpoint that is being
 * called by the CDS Client" (for feedback, the feedback URL, as the reference sandbox signs
 * it). Comparison rules, chosen here because the spec is silent on them:
 * - scheme and host are compared case-insensitively and default ports are ignored (URL
 *   normalisation);
 * - the path is compared exactly (no percent-decoding: `$` and `%24` are different URLs),
 *   except that trailing slashes are ignored, because express routes `/x` and `/x/` alike;
 * - query string and fragment are ignored on both sides: our endpoints take no query
 *   parameters, and clients sign the endpoint URL, not a particular request.
 */
import type { Request } from 'express';

/**
 * The normalised form used for comparison, or undefined when `value` is not an absolute
 * http(s) URL.
 * @param value - a URL string
 */
export function comparableUrlOf(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * The URL the client invoked: PUBLIC_BASE_URL + path when configured (the only trustworthy
 * source behind a proxy), else the request's own protocol and Host header + path.
 * @param req - the request
 * @param publicBaseUrl - the configured public base URL (no trailing slash), if any
 */
export function invokedUrlOf(req: Request, publicBaseUrl: string | undefined): string {
  const path = req.originalUrl.split('?')[0];
  return `${publicBaseUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`}${path}`;
}

/**
 * Whether a token's `aud` (string or array of strings, RFC 7519 §4.1.3) names `invokedUrl`.
 * @param aud - the claim
 * @param invokedUrl - from {@link invokedUrlOf}
 */
export function audienceNames(aud: unknown, invokedUrl: string): boolean {
  const expected = comparableUrlOf(invokedUrl);
  const audiences = Array.isArray(aud) ? aud : [aud];
  return expected !== undefined && audiences.some((a) => typeof a === 'string' && comparableUrlOf(a) === expected);
}
