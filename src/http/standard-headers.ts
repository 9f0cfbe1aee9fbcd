/**
 * Headers on every response, set in one place: answers carry note text, quoted evidence and
 * suggested diagnoses (PHI), which no shared or browser cache may keep
 * (`Cache-Control: no-store`, RFC 9111 §5.2.2.5), and no response is ever sniffed into
 * another media type or leaks its URL in a Referer. Routes that serve static assets may relax
 * Cache-Control for those assets only (http/review-page.ts).
 */
import type { RequestHandler } from 'express';

export const standardHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  next();
};
