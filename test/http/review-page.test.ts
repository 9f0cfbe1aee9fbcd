/**
 * The review page's static files: content types, CSP and the other security headers, no
 * inline script or style and no outside URL in the HTML, and 404/405 behaviour. The page
 * itself is driven in a browser by test/e2e/review-page.test.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { REVIEW_PAGE_CSP, REVIEW_PAGE_DIR } from '../../src/http/review-page';
import { createTestApp } from '../helpers/app';

let app: Awaited<ReturnType<typeof createTestApp>>['app'];
beforeAll(async () => {
  if (!existsSync(path.join(REVIEW_PAGE_DIR, 'index.html'))) {
    throw new Error(`${REVIEW_PAGE_DIR} is not built: run npm run build (npm test does)`);
  }
  ({ app } = await createTestApp());
});

describe('GET /', () => {
  it('serves the page as HTML with a strict CSP', async () => {
    const res = await request(app).get('/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(REVIEW_PAGE_CSP);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).not.toContain('unsafe');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.text).toContain('<textarea id="note-input"');
  });

  it('has no inline script, inline style, event handler attribute or outside URL', () => {
    const html = readFileSync(path.join(REVIEW_PAGE_DIR, 'index.html'), 'utf8');
    for (const script of html.match(/<script\b[^>]*>/g) ?? []) expect(script).toMatch(/\bsrc="review\/[\w-]+\.js"/);
    expect(html).not.toMatch(/<script\b[^>]*>[^<]+<\/script>/);
    expect(html).not.toMatch(/<style\b|\sstyle=/);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
  });

  it('answers 405 with Allow to other methods', async () => {
    const res = await request(app).post('/').set('Content-Type', 'application/json').send('{}');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expect(res.body.resourceType).toBe('OperationOutcome');
  });
});

describe('GET /review/*', () => {
  it.each([
    ['main.js', 'text/javascript; charset=utf-8'],
    ['review.css', 'text/css; charset=utf-8'],
  ])('serves %s as %s with the CSP', async (file, type) => {
    const res = await request(app).get(`/review/${file}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(type);
    expect(res.headers['content-security-policy']).toBe(REVIEW_PAGE_CSP);
  });

  it('answers 404 (OperationOutcome) for a missing file or a path outside the page', async () => {
    for (const url of ['/review/nope.js', '/review/../package.json', '/review/%2e%2e/package.json']) {
      const res = await request(app).get(url);
      expect(res.status).toBe(404);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
  });
});
