/**
 * The review page end to end: the real app (tiny model, auth off) on a loopback port, driven
 * in headless Debian Chromium by playwright-core. Checks what a user sees (cards, marks,
 * statuses, selection), what the page sends (hook request, feedback), keyboard use, hostile
 * card content and the 401 path. Writes test-output/review-page.png (git-ignored).
 *
 * Needs /usr/bin/chromium (Debian package `chromium`; .ci/run installs it). Without it the
 * suite skips loudly (test/helpers/system-packages.ts); no browser is ever downloaded.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page, type Request, type Response } from 'playwright-core';
import { REVIEW_PAGE_DIR } from '../../src/http/review-page';
import { createTestApp, listenOnLoopback } from '../helpers/app';
import { CHROMIUM as CHROMIUM_PACKAGE, describeWithPackages } from '../helpers/system-packages';

// Runs inside the page (functions passed to evaluate); the tests' tsconfig has no DOM lib.
declare function getComputedStyle(element: unknown): { outlineStyle: string; textDecorationStyle: string; textDecorationLine: string };

const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.join(__dirname, '..', '..');
const NOTE = readFileSync(path.join(ROOT, 'test', 'fixtures', 'notes', 'discharge-summary.txt'), 'utf8');
const SCREENSHOT = path.join(ROOT, 'test-output', 'review-page.png');
const HOOK_PATH = '/cds-services/icd10cm-suggestions';
const DERIVATION = 'http://hl7.org/fhir/StructureDefinition/derivation-reference';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// Loose shapes of what the service answers (the page and these tests read them as JSON).
interface Ext {
  url: string;
  valueInteger?: number;
  extension?: Ext[];
}
interface Card {
  uuid: string;
  summary: string;
  suggestions: { uuid: string; actions: { resource: { code: { coding: { code: string }[] }; extension: Ext[]; note: { text: string }[] } }[] }[];
  overrideReasons: { system: string; code: string; display: string }[];
}

/** Quoted passages of a card: note text by code-point offsets, and the status its Condition note gives. */
function passagesOf(card: Card): { text: string; status: string }[] {
  const condition = card.suggestions[0].actions[0].resource;
  const codePoints = Array.from(NOTE);
  const statuses = condition.note.map((n) => /^Source text: "[\s\S]*" \((\w+)/.exec(n.text)?.[1]).filter(Boolean) as string[];
  return condition.extension
    .filter((e) => e.url === DERIVATION)
    .map((e, i) => {
      const part = (name: string) => e.extension!.find((x) => x.url === name)!.valueInteger!;
      return { text: codePoints.slice(part('offset'), part('offset') + part('length')).join(''), status: statuses[i] };
    });
}
const codeOf = (card: Card) => card.suggestions[0].actions[0].resource.code.coding[0].code;

{
  describeWithPackages([CHROMIUM_PACKAGE], 'review page in Chromium', () => {
    jest.setTimeout(60_000);
    let server: Server;
    let base: string;
    let context: BrowserContext;
    let userDataDir: string;
    let errors: string[];

    beforeAll(async () => {
      if (!existsSync(path.join(REVIEW_PAGE_DIR, 'main.js'))) throw new Error('dist/web is not built: run npm run build (npm test does)');
      const { app } = await createTestApp();
      const served = await listenOnLoopback(app);
      server = served.server;
      base = `${served.base}/`;
      userDataDir = mkdtempSync(path.join(os.tmpdir(), 'icd10-cds-chromium-'));
      context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
        viewport: { width: 1280, height: 720 },
      });
    });

    afterAll(async () => {
      await context?.close();
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
      if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    });

    let page: Page;
    beforeEach(async () => {
      errors = [];
      page = await context.newPage();
      page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
      // "Failed to load resource" is how Chromium logs any non-2xx answer (the 401 test wants one).
      page.on('console', (m) => {
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
      });
      // Every file the page loads exists (the 401 tests' answers are the only failures wanted).
      page.on('response', (r) => {
        if (r.status() >= 400 && r.status() !== 401) errors.push(`${r.status()} ${new URL(r.url()).pathname}`);
      });
      await page.goto(base);
    });
    afterEach(async () => {
      await page.close();
      // CSP violations and script errors surface here.
      expect(errors).toEqual([]);
    });

    const isHook = (r: Request | Response) => new URL(r.url()).pathname === HOOK_PATH;
    const isFeedback = (r: Request | Response) => new URL(r.url()).pathname === `${HOOK_PATH}/feedback`;

    /** Pastes the note, submits with the mouse and returns what was sent and answered. */
    async function analyse(note = NOTE) {
      await page.getByLabel('Discharge summary (plain text)').fill(note);
      const [request, response] = await Promise.all([
        page.waitForRequest(isHook),
        page.waitForResponse(isHook),
        page.getByRole('button', { name: 'Get suggestions' }).click(),
      ]);
      const cards = (await response.json()).cards as Card[];
      await page.locator('#cards > li').first().waitFor();
      return { sent: request.postDataJSON(), cards };
    }

    test('sends a CDS Hooks request built from the pasted note and shows one card per answer card', async () => {
      const { sent, cards } = await analyse();
      expect(sent).toMatchObject({ hook: 'encounter-discharge', context: { patientId: expect.any(String), encounterId: expect.any(String) } });
      expect(sent.hookInstance).toMatch(UUID);
      expect(sent.context.userId).toMatch(/^Practitioner\//);
      const summaries = sent.prefetch.dischargeSummaries;
      expect(summaries).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 });
      const doc = summaries.entry[0].resource;
      expect(doc).toMatchObject({
        resourceType: 'DocumentReference',
        status: 'current',
        type: { coding: [{ system: 'http://loinc.org', code: '18842-5' }] },
        subject: { reference: `Patient/${sent.context.patientId}` },
        context: { encounter: [{ reference: `Encounter/${sent.context.encounterId}` }] },
      });
      expect(doc.content[0].attachment.contentType).toBe('text/plain; charset=utf-8');
      expect(Buffer.from(doc.content[0].attachment.data, 'base64').toString('utf8')).toBe(NOTE);
      expect(sent.prefetch.encounterConditions).toEqual({ resourceType: 'Bundle', type: 'searchset', total: 0 });

      expect(cards.length).toBeGreaterThanOrEqual(2);
      await expect(page.locator('#cards > li').count()).resolves.toBe(cards.length);
      await expect(page.locator('.card-select').allTextContents()).resolves.toEqual(cards.map((c) => c.summary));
      await expect(page.locator('#status').textContent()).resolves.toBe(`${cards.length} suggestions. Select a card to highlight its evidence in the note.`);
      // What a CDS client shows: indicator, detail (rendered Markdown), source label, suggestion button.
      const first = page.locator('#cards > li').first();
      await expect(first.locator('.indicator').textContent()).resolves.toBe('Info');
      await expect(first.locator('.detail strong').first().textContent()).resolves.toBe('Test model: these suggestions are not clinically meaningful.');
      await expect(first.locator('.detail blockquote').count()).resolves.toBe(passagesOf(cards[0]).length);
      await expect(first.locator('.source').textContent()).resolves.toMatch(/^Source: ICD-10-CM coding assistant \(AI\)/);
      await expect(first.locator('button.accept').textContent()).resolves.toBe(`Accept: Add ${codeOf(cards[0])} as a provisional encounter diagnosis`);
    });

    test('marks every quoted passage with its text and shows its assertion status as a label', async () => {
      const { cards } = await analyse();
      const unique = new Set<string>();
      for (const [i, card] of cards.entries()) {
        for (const [j, passage] of passagesOf(card).entries()) {
          unique.add(passage.text);
          const marks = page.locator(`mark[data-passages~="c${i}p${j}"]`);
          expect((await marks.allTextContents()).join('')).toBe(passage.text);
          const badge = page.locator(`.badge[data-passage="c${i}p${j}"]`);
          await expect(badge.isVisible()).resolves.toBe(true);
          await expect(badge.textContent()).resolves.toBe(`${codeOf(card)} · ${passage.status}`);
          await expect(page.locator(`#card-${i}-select`).isVisible()).resolves.toBe(true);
          await expect(page.locator(`.passage-link[data-passage="c${i}p${j}"]`).textContent()).resolves.toBe(`Passage ${j + 1} ${passage.status}`);
        }
      }
      // This note's passages are equal or disjoint, so each mark is exactly one passage.
      const texts = await page.locator('#note-view mark').allTextContents();
      expect(texts.length).toBe(unique.size);
      for (const text of texts) expect(unique.has(text)).toBe(true);
      // The note around the marks is the note: nothing lost or added but the badges.
      const shown = await page.locator('#note-view').evaluate((pre) =>
        Array.from(pre.childNodes as ArrayLike<{ nodeName: string; textContent: string }>)
          .filter((n) => n.nodeName !== 'SPAN')
          .map((n) => n.textContent)
          .join(''),
      );
      expect(shown).toBe(NOTE);
      // The fixture has both present and historical mentions; each status has its own style.
      const statuses = await page.locator('#note-view mark').evaluateAll((ms) => ms.map((m) => m.dataset.status));
      expect(new Set(statuses)).toEqual(new Set(['present', 'historical', 'uncertain']));
      const styles = await page
        .locator('#note-view mark')
        .evaluateAll((ms) => ms.map((m) => getComputedStyle(m).textDecorationStyle + getComputedStyle(m).textDecorationLine));
      expect(new Set(styles).size).toBe(3);
    });

    test('selecting a card highlights its passages and scrolls the first into view', async () => {
      const { cards } = await analyse();
      const view = page.locator('#note-view');
      await view.evaluate((pre) => {
        pre.scrollTop = pre.scrollHeight;
      });
      const last = cards.length - 1;
      await page.locator('#card-0-select').click();
      await expect(page.locator('#card-0-select').getAttribute('aria-pressed')).resolves.toBe('true');
      await expect(page.locator(`#card-${last}-select`).getAttribute('aria-pressed')).resolves.toBe('false');
      const own = passagesOf(cards[0]).map((_, j) => `c0p${j}`);
      const selected = await page.locator('#note-view mark.selected').evaluateAll((ms) => ms.map((m) => m.dataset.passages));
      expect(selected.length).toBe(own.length);
      for (const [k, ids] of selected.entries()) expect(ids!.split(' ')).toContain(own[k]);
      const firstMark = page.locator(`mark[data-passages~="c0p0"]`);
      await expect(firstMark.evaluate((m) => getComputedStyle(m).outlineStyle)).resolves.toBe('solid');
      const inView = () =>
        firstMark.evaluate((m) => {
          const r = m.getBoundingClientRect();
          const v = m.closest('pre')!.getBoundingClientRect();
          return r.top >= v.top && r.bottom <= v.bottom;
        });
      await expect(inView()).resolves.toBe(true);
      await expect(page.locator('#status').textContent()).resolves.toBe(`${codeOf(cards[0])}: ${own.length} passages highlighted in the note.`);

      // A passage button jumps to that passage and focuses it.
      await view.evaluate((pre) => {
        pre.scrollTop = 0;
      });
      const lastJ = passagesOf(cards[last]).length - 1;
      await page.locator(`.passage-link[data-passage="c${last}p${lastJ}"]`).click();
      await expect(page.locator(`#card-${last}-select`).getAttribute('aria-pressed')).resolves.toBe('true');
      await expect(page.evaluate('document.activeElement.dataset.passages')).resolves.toContain(`c${last}p${lastJ}`);

      await page.locator('#card-0-select').click();
      mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    });

    test('Accept and Reject post CDS Hooks feedback and show the stored answer', async () => {
      const { cards } = await analyse();
      const card0 = page.locator('#cards > li').nth(0);
      const [accepted, acceptAnswer] = await Promise.all([
        page.waitForRequest(isFeedback),
        page.waitForResponse(isFeedback),
        card0.locator('button.accept').click(),
      ]);
      const a = accepted.postDataJSON();
      expect(a).toEqual({
        feedback: [
          { card: cards[0].uuid, outcome: 'accepted', acceptedSuggestions: [{ id: cards[0].suggestions[0].uuid }], outcomeTimestamp: expect.any(String) },
        ],
      });
      expect(Date.parse(a.feedback[0].outcomeTimestamp)).not.toBeNaN();
      expect(acceptAnswer.status()).toBe(200);
      await expect(card0.locator('.feedback-status').textContent()).resolves.toBe('Feedback stored: accepted (HTTP 200).');
      await expect(card0.locator('button.accept').isDisabled()).resolves.toBe(true);

      const card1 = page.locator('#cards > li').nth(1);
      await card1.getByRole('button', { name: 'Reject…' }).click();
      await expect(card1.locator('fieldset label').allTextContents()).resolves.toEqual(cards[1].overrideReasons.map((r) => r.display));
      // A reason is required before sending.
      let sentEarly = false;
      const early = () => {
        sentEarly = true;
      };
      page.on('request', (r) => isFeedback(r) && early());
      await card1.getByRole('button', { name: 'Send rejection' }).click();
      await page.waitForTimeout(100);
      expect(sentEarly).toBe(false);
      const reason = cards[1].overrideReasons[0];
      await card1.getByLabel(reason.display).check();
      await card1.getByLabel('Comment (optional)').fill('Not in this note');
      const [overridden, overrideAnswer] = await Promise.all([
        page.waitForRequest(isFeedback),
        page.waitForResponse(isFeedback),
        card1.getByRole('button', { name: 'Send rejection' }).click(),
      ]);
      expect(overridden.postDataJSON()).toEqual({
        feedback: [
          {
            card: cards[1].uuid,
            outcome: 'overridden',
            overrideReason: { reason: { system: reason.system, code: reason.code, display: reason.display }, userComment: 'Not in this note' },
            outcomeTimestamp: expect.any(String),
          },
        ],
      });
      expect(overrideAnswer.status()).toBe(200);
      await expect(card1.locator('.feedback-status').textContent()).resolves.toBe('Feedback stored: rejected (overridden) (HTTP 200).');
    });

    test('works with the keyboard alone: paste, submit, select a card, jump to a passage', async () => {
      const activeId = () => page.evaluate('document.activeElement && document.activeElement.id') as Promise<string>;
      const tabTo = async (id: string) => {
        for (let i = 0; i < 20 && (await activeId()) !== id; i++) await page.keyboard.press('Tab');
        expect(await activeId()).toBe(id);
      };
      await tabTo('note-input');
      await page.keyboard.insertText(NOTE);
      await tabTo('analyse');
      const [response] = await Promise.all([page.waitForResponse(isHook), page.keyboard.press('Enter')]);
      const cards = (await response.json()).cards as Card[];
      await page.locator('#cards > li').first().waitFor();
      // Focus moves to the results; the next Tab reaches the first card.
      expect(await activeId()).toBe('cards-heading');
      await page.keyboard.press('Tab');
      expect(await activeId()).toBe('card-0-select');
      await expect(page.locator('#card-0-select').evaluate((b) => getComputedStyle(b).outlineStyle)).resolves.toBe('solid');
      await page.keyboard.press('Enter');
      await expect(page.locator('#card-0-select').getAttribute('aria-pressed')).resolves.toBe('true');
      await expect(page.locator('#note-view mark.selected').count()).resolves.toBe(passagesOf(cards[0]).length);
      // Tab on to the card's first passage button; Space jumps there.
      await page.keyboard.press('Tab');
      await expect(page.evaluate('document.activeElement.dataset.passage')).resolves.toBe('c0p0');
      await page.keyboard.press('Space');
      await expect(page.evaluate('document.activeElement.tagName')).resolves.toBe('MARK');
    });

    test('renders hostile card content as text: no HTML, no script, no javascript: link', async () => {
      await page.route(
        (url) => url.pathname === HOOK_PATH,
        (route) =>
          route.fulfill({
            status: 200,
            contentType: 'application/json',
            body: JSON.stringify({
              cards: [
                {
                  uuid: 'c-1',
                  summary: '<img src=x onerror="window.pwned=1">',
                  indicator: 'critical',
                  detail:
                    '<script>window.pwned=1</script>\n\n<img src=x onerror="window.pwned=1">\n\n[click](javascript:window.pwned=1) **bold** _em_ `code`\n\n> quoted <b>html</b>',
                  source: { label: '<b>source</b>' },
                  links: [
                    { label: 'bad', url: 'javascript:window.pwned=1', type: 'absolute' },
                    { label: 'good', url: 'https://example.org/info', type: 'absolute' },
                  ],
                  selectionBehavior: 'at-most-one',
                  suggestions: [
                    {
                      label: '<i>Add</i>',
                      uuid: 's-1',
                      actions: [
                        {
                          type: 'create',
                          description: 'x',
                          resource: {
                            resourceType: 'Condition',
                            extension: [
                              {
                                url: DERIVATION,
                                extension: [
                                  { url: 'offset', valueInteger: 999999 },
                                  { url: 'length', valueInteger: 5 },
                                ],
                              },
                            ],
                          },
                        },
                      ],
                    },
                  ],
                },
              ],
            }),
          }),
      );
      await page.getByLabel('Discharge summary (plain text)').fill('Short note.');
      await page.getByRole('button', { name: 'Get suggestions' }).click();
      const card = page.locator('#cards > li').first();
      await card.waitFor();
      await expect(page.locator('#cards img, #cards script, #cards b, #cards i, #cards a[href^="javascript"]').count()).resolves.toBe(0);
      await expect(card.locator('.card-select').textContent()).resolves.toBe('<img src=x onerror="window.pwned=1">');
      await expect(card.locator('.detail').textContent()).resolves.toContain('<script>window.pwned=1</script>');
      await expect(card.locator('.detail').textContent()).resolves.toContain('[click](javascript:window.pwned=1)');
      await expect(card.locator('.detail strong').textContent()).resolves.toBe('bold');
      await expect(card.locator('.detail em').textContent()).resolves.toBe('em');
      await expect(card.locator('.detail code').textContent()).resolves.toBe('code');
      await expect(card.locator('.detail blockquote').textContent()).resolves.toBe('quoted <b>html</b>');
      await expect(card.locator('.indicator').textContent()).resolves.toBe('Critical');
      await expect(card.locator('.links a').evaluateAll((as) => as.map((a) => [a.textContent, a.getAttribute('href'), a.rel]))).resolves.toEqual([
        ['good', 'https://example.org/info', 'noopener noreferrer'],
      ]);
      await expect(card.locator('.links').textContent()).resolves.toContain('bad (link not shown');
      await expect(card.locator('.unplaced').textContent()).resolves.toBe('1 passage(s) could not be placed in this note');
      await expect(page.evaluate('window.pwned')).resolves.toBeUndefined();
    });

    test('a 401 is shown clearly and a bearer token from the page is sent on the next try', async () => {
      const authorizations: (string | undefined)[] = [];
      await page.route(
        (url) => url.pathname === HOOK_PATH,
        (route) => {
          const authorization = route.request().headers().authorization;
          authorizations.push(authorization);
          if (!authorization) {
            return route.fulfill({
              status: 401,
              contentType: 'application/json',
              headers: { 'WWW-Authenticate': 'Bearer' },
              body: JSON.stringify({
                resourceType: 'OperationOutcome',
                issue: [{ severity: 'error', code: 'login', details: { text: 'A bearer token is required' } }],
              }),
            });
          }
          return route.continue();
        },
      );
      await page.getByLabel('Discharge summary (plain text)').fill(NOTE);
      await page.getByRole('button', { name: 'Get suggestions' }).click();
      const alert = page.getByRole('alert');
      await alert.waitFor();
      await expect(alert.textContent()).resolves.toBe(
        `No suggestions: 401 Unauthorized (A bearer token is required). The service requires authentication: enter a bearer token under "Authentication" (a JWT whose aud is ${base}cds-services/icd10cm-suggestions) and try again.`,
      );
      await expect(page.locator('#auth').getAttribute('open')).resolves.toBe('');
      await expect(page.evaluate('document.activeElement.id')).resolves.toBe('token');
      await page.keyboard.insertText('demo-token');
      await page.getByRole('button', { name: 'Get suggestions' }).click();
      await page.locator('#cards > li').first().waitFor();
      expect(authorizations).toEqual([undefined, 'Bearer demo-token']);
      await expect(alert.isHidden()).resolves.toBe(true);
      // Memory only: nothing in storage or cookies.
      await expect(page.evaluate('localStorage.length + sessionStorage.length')).resolves.toBe(0);
      await expect(page.evaluate('document.cookie')).resolves.toBe('');
    });

    test('with the real service on AUTH=on, the 401s are shown and say what token is needed', async () => {
      const { app } = await createTestApp({ auth: 'on' });
      const { server: secured, base: securedRoot } = await listenOnLoopback(app);
      try {
        const securedBase = `${securedRoot}/`;
        await page.goto(securedBase);
        await page.getByLabel('Discharge summary (plain text)').fill(NOTE);
        const [first] = await Promise.all([page.waitForResponse(isHook), page.getByRole('button', { name: 'Get suggestions' }).click()]);
        expect(first.status()).toBe(401);
        const alert = page.getByRole('alert');
        await expect(alert.textContent()).resolves.toMatch(
          /^No suggestions: 401 Unauthorized \(.+\)\. The service requires authentication: enter a bearer token/,
        );
        await expect(page.evaluate('document.activeElement.id')).resolves.toBe('token');
        await page.keyboard.insertText('not-a-jwt');
        const [second] = await Promise.all([page.waitForResponse(isHook), page.getByRole('button', { name: 'Get suggestions' }).click()]);
        expect(second.status()).toBe(401);
        expect(second.request().headers().authorization).toBe('Bearer not-a-jwt');
        await expect(alert.textContent()).resolves.toContain(
          `The service refused the bearer token. Its tokens are single-use JWTs of a trusted CDS client: paste a fresh one whose aud is ${securedBase}cds-services/icd10cm-suggestions`,
        );
        await expect(page.locator('#cards > li').count()).resolves.toBe(0);
      } finally {
        // Chromium keeps (and pre-opens) keep-alive sockets, which close() alone would wait for.
        secured.closeAllConnections();
        await new Promise((resolve) => secured.close(resolve));
      }
    });

    test('loads a note from a DocumentReference file, and refuses one without a text/plain attachment', async () => {
      const request = JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'requests', 'encounter-discharge.json'), 'utf8'));
      const doc = request.prefetch.dischargeSummaries.entry[0].resource;
      const input = page.getByLabel('Load from a file');
      await input.setInputFiles({ name: 'summary.json', mimeType: 'application/fhir+json', buffer: Buffer.from(JSON.stringify(doc)) });
      // Files are read asynchronously (File.text()): wait for the page to report the load.
      await page
        .locator('#status')
        .filter({ hasText: /^Loaded summary\.json/ })
        .waitFor();
      await expect(page.getByLabel('Discharge summary (plain text)').inputValue()).resolves.toBe(NOTE);

      await input.setInputFiles({ name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from('Plain note ✓\n') });
      await page
        .locator('#status')
        .filter({ hasText: /^Loaded note\.txt/ })
        .waitFor();
      await expect(page.getByLabel('Discharge summary (plain text)').inputValue()).resolves.toBe('Plain note ✓\n');

      const html = { ...doc, content: [{ attachment: { contentType: 'text/html', data: Buffer.from('<p>x</p>').toString('base64') } }] };
      await input.setInputFiles({ name: 'html.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(html)) });
      await page.getByRole('alert').filter({ hasText: 'html.json' }).waitFor();
      await expect(page.getByRole('alert').textContent()).resolves.toBe(
        'html.json: The DocumentReference has no text/plain attachment with inline data (found: text/html). Use the FHIR operation for other types.',
      );
    });
  });
}
