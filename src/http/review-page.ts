/**
 * The review page: static HTML, CSS and browser JavaScript (built from src/web/ into dist/web by
 * `npm run build`), at GET / and under /review/. It holds no data and needs no token: the
 * browser calls /cds-services like any CDS client, with the user's bearer token when auth is on.
 *
 * Strict CSP: scripts, styles and connections from this origin only (no inline script or
 * style, no CDN, no web fonts), no HTML-string DOM sinks (Trusted Types), no framing.
 */
import path from 'node:path';
import express, { Router, type Response } from 'express';
import { PROJECT_ROOT } from '../paths';
import { methodNotAllowed, notFound } from '../errors';

/** Where `npm run build` puts the page (also when running from src/ under ts-jest). */
export const REVIEW_PAGE_DIR = path.join(PROJECT_ROOT, 'dist', 'web');

export const REVIEW_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

function pageHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', REVIEW_PAGE_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  // The page changes with each build; revalidate rather than serve a stale script.
  res.setHeader('Cache-Control', 'no-cache');
}

/**
 * Routes of the review page.
 * @param dir - the built page (dist/web)
 */
export function reviewPageRouter(dir: string = REVIEW_PAGE_DIR): Router {
  const router = Router();
  router.get('/', (_req, res, next) => {
    pageHeaders(res);
    res.sendFile('index.html', { root: dir, dotfiles: 'deny' }, (error?: Error) => {
      if (error) next(notFound('The review page is not built (run npm run build)'));
    });
  });
  router.all('/', (req) => {
    throw methodNotAllowed(req.method, ['GET', 'HEAD']);
  });
  router.use(
    '/review',
    express.static(dir, {
      index: false,
      dotfiles: 'deny',
      redirect: false,
      fallthrough: true,
      setHeaders: pageHeaders,
    }),
  );
  return router;
}
