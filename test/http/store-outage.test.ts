/**
 * A lost database under load: an app on PostgreSQL serves 8 concurrent clients (hook calls
 * with client JWTs, feedback, the FHIR operation with a static token) while PostgreSQL is
 * stopped for 10 s and started again on the same port and data. During the outage every
 * answer that is not 200 is 503 OperationOutcome `transient` with Retry-After, quickly (no
 * call waits past the store's bounds); the same app answers 200 again within 5 s of the
 * database's return, without a restart; every write it acknowledged is in the store. A frozen
 * database (SIGSTOP: connections open, nothing answers) is answered 503 within one store
 * call's bound, at both edges.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { TrustedClient } from '../../src/auth/trusted-clients';
import type { Card } from '../../src/cds/types';
import { createTestApp, listenOnLoopback } from '../helpers/app';
import { expectValidCds, expectValidFhir } from '../helpers/expect-valid';
import { describeWithPostgres, usePostgres } from '../helpers/postgres';
import { documentReference, hookRequest, SAMPLE_NOTE, searchset } from '../helpers/resources';
import { clientClaims, signedToken, testSigner } from '../helpers/tokens';

const BASE = 'https://cds.example.org';
const SERVICE = '/cds-services/icd10cm-suggestions';
const OPERATION = '/fhir/DocumentReference/$suggest-conditions';
const EHR = 'https://ehr.example.org';
const FHIR_TOKEN = 'outage-test-static-token-0123456789abcdef';
const CLIENTS = 8;
const OUTAGE_MS = 10_000;
/** The store's bounds in this test: connect 1 s, statements 1 s (+1 s on the client). */
const STORE = { storeConnectTimeoutMs: 1000, storeStatementTimeoutMs: 1000 };
const CALL_BOUND_MS = STORE.storeConnectTimeoutMs + STORE.storeStatementTimeoutMs + 1000 + 1000;

type Kind = 'hook' | 'feedback' | 'fhir' | 'readyz';
interface Answer {
  kind: Kind;
  started: number;
  ended: number;
  status: number;
  retryAfter: string | null;
  requestId: string | null;
  body: unknown;
  /** feedback: the entry sent. */
  entry?: { card: string; outcomeTimestamp: string };
}

describeWithPostgres('PostgreSQL stopped for 10 s under load', () => {
  const cluster = usePostgres();

  test('503 transient during the outage, 200 within 5 s of the return, every acknowledged write kept', async () => {
    const signer = await testSigner('ES384', 'es-1');
    const cdsClients: TrustedClient[] = [{ iss: EHR, jwks: { keys: [signer.publicJwk] } }];
    const replica = await createTestApp(
      { auth: 'on', cdsClients, fhirTokens: [FHIR_TOKEN], publicBaseUrl: BASE, storeUrl: await cluster().createDatabase(), hookTimeBudgetMs: 30_000, ...STORE },
      undefined,
      randomUUID,
    );
    const { server, base } = await listenOnLoopback(replica.app);
    const answers: Answer[] = [];
    const cards: Card[] = [];
    let n = 0;

    const call = async (kind: Kind, path: string, init: RequestInit = {}, entry?: Answer['entry']) => {
      const started = performance.now();
      let status = 0;
      let body: unknown;
      let headers: Headers | undefined;
      try {
        // A hang would show as status 0 (aborted), which the assertions refuse.
        const res = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(15_000) });
        status = res.status;
        headers = res.headers;
        const text = await res.text();
        body = text ? JSON.parse(text) : undefined;
      } catch (error) {
        body = { error: String(error) };
      }
      const answer: Answer = {
        kind,
        started,
        ended: performance.now(),
        status,
        retryAfter: headers?.get('retry-after') ?? null,
        requestId: headers?.get('x-request-id') ?? null,
        body,
        ...(entry ? { entry } : {}),
      };
      answers.push(answer);
      return answer;
    };
    const post = async (kind: Kind, path: string, token: string, body: unknown, type = 'application/json', entry?: Answer['entry']) =>
      call(kind, path, { method: 'POST', headers: { 'Content-Type': type, Authorization: `Bearer ${token}` }, body: JSON.stringify(body) }, entry);
    const jwt = (path: string) => signedToken(signer, clientClaims(EHR, `${BASE}${path}`));
    // Twenty notes: some calls compute, later ones read the result cache.
    const note = (i: number) => `${SAMPLE_NOTE}\nOutage case ${i % 20}.`;

    const step = async () => {
      const i = n++;
      if (i % 3 === 1 && cards.length > 0) {
        const card = cards[i % cards.length];
        const entry = { card: card.uuid, outcomeTimestamp: new Date(Date.UTC(2026, 10, 25, 12, 0, 0, i)).toISOString() };
        const body = { feedback: [{ ...entry, outcome: 'accepted', acceptedSuggestions: [{ id: card.suggestions![0].uuid }] }] };
        await post('feedback', `${SERVICE}/feedback`, await jwt(`${SERVICE}/feedback`), body, 'application/json', entry);
      } else if (i % 3 === 2) {
        await post(
          'fhir',
          OPERATION,
          FHIR_TOKEN,
          { resourceType: 'Parameters', parameter: [{ name: 'document', resource: documentReference(note(i)) }] },
          'application/fhir+json',
        );
      } else {
        const body = hookRequest({ prefetch: { dischargeSummaries: searchset(documentReference(note(i))), encounterConditions: searchset() } });
        const answer = await post('hook', SERVICE, await jwt(SERVICE), body);
        if (answer.status === 200) cards.push(...(answer.body as { cards: Card[] }).cards.filter((c) => c.suggestions?.length));
      }
    };
    let running = true;
    const clients = Array.from({ length: CLIENTS }, async () => {
      while (running) await step();
    });
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    let down = 0;
    let restarting = 0;
    let up = 0;
    let readyDown: Answer | undefined;
    let readyUp: Answer | undefined;
    try {
      await sleep(2000);
      await cluster().shutdown('fast');
      down = performance.now();
      await sleep(OUTAGE_MS / 2);
      readyDown = await call('readyz', '/readyz');
      await sleep(OUTAGE_MS / 2);
      restarting = performance.now();
      await cluster().start();
      up = performance.now();
      // Load goes on until a while after the first 200 (at most 5 s, the recovery bound).
      const recoveryDeadline = up + 5000;
      while (performance.now() < recoveryDeadline && !answers.some((a) => a.started >= up && a.status === 200)) await sleep(50);
      await sleep(1000);
      readyUp = await call('readyz', '/readyz');
    } finally {
      running = false;
      await Promise.all(clients);
      if (!up) await cluster().start();
      await replica.settled();
      await new Promise<void>((resolve) => (server as Server).close(() => resolve()));
    }

    // Load really ran before, during and after the outage.
    const work = answers.filter((a) => a.kind !== 'readyz');
    // Calls made wholly while the server was stopped (before pg_ctl start began).
    const during = work.filter((a) => a.started >= down && a.ended <= restarting);
    expect(work.filter((a) => a.ended < down && a.status === 200).length).toBeGreaterThan(CLIENTS);
    expect(during.length).toBeGreaterThan(CLIENTS);
    for (const kind of ['hook', 'feedback', 'fhir'] as const) expect(during.filter((a) => a.kind === kind).length).toBeGreaterThan(0);

    // Every answer that is not 200, at any time, is 503 transient with Retry-After, within the store's bounds.
    const refused = answers.filter((a) => a.status !== 200 && a.kind !== 'readyz');
    expect(refused.length).toBeGreaterThan(0);
    for (const a of refused) {
      expect({ kind: a.kind, status: a.status, code: (a.body as { issue?: { code?: string }[] })?.issue?.[0]?.code, retryAfter: a.retryAfter }).toEqual({
        kind: a.kind,
        status: 503,
        code: 'transient',
        retryAfter: '5',
      });
      expectValidFhir(a.body);
    }
    // While it was down, nothing could be answered 200: every call needs the store.
    expect(during.filter((a) => a.status === 200)).toEqual([]);
    expect(Math.max(...answers.map((a) => a.ended - a.started))).toBeLessThan(CALL_BOUND_MS);
    expect(readyDown?.status).toBe(503);
    expect(readyUp?.status).toBe(200);

    // Back by itself: a call started after the return was answered 200 within 5 s of it.
    const firstBack = Math.min(...work.filter((a) => a.started >= up && a.status === 200).map((a) => a.ended));
    expect(firstBack - up).toBeLessThan(5000);

    // Every acknowledged write is in the store: an audit record per call answered 200, and each feedback entry.
    const ok = work.filter((a) => a.status === 200);
    for (const a of ok.filter((x) => x.kind === 'hook')) expectValidCds('response', a.body);
    for (const a of ok.filter((x) => x.kind === 'fhir')) expectValidFhir(a.body);
    const audited = new Set((await replica.store.auditRecords()).map((r) => r.requestId));
    const unaudited = ok.filter((a) => a.kind !== 'feedback' && !audited.has(a.requestId!));
    expect(unaudited).toEqual([]);
    const stored = new Set((await replica.store.feedbackRecords()).map((f) => `${f.card} ${f.outcomeTimestamp}`));
    const lost = ok.filter((a) => a.kind === 'feedback' && !stored.has(`${a.entry!.card} ${a.entry!.outcomeTimestamp}`));
    expect(lost).toEqual([]);
    expect(ok.filter((a) => a.kind === 'feedback').length).toBeGreaterThan(0);
    await replica.store.close();
  }, 60_000);

  test('database frozen: each call answered 503 transient within one store bound (never waiting twice), 200 again once it resumes', async () => {
    const signer = await testSigner('ES384', 'es-1');
    const replica = await createTestApp(
      {
        auth: 'on',
        cdsClients: [{ iss: EHR, jwks: { keys: [signer.publicJwk] } }],
        fhirTokens: [FHIR_TOKEN],
        publicBaseUrl: BASE,
        storeUrl: await cluster().createDatabase(),
        hookTimeBudgetMs: 30_000,
        ...STORE,
      },
      undefined,
      randomUUID,
    );
    const { server, base } = await listenOnLoopback(replica.app);
    const hook = async (text: string) =>
      fetch(`${base}${SERVICE}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await signedToken(signer, clientClaims(EHR, `${BASE}${SERVICE}`))}` },
        body: JSON.stringify(hookRequest({ prefetch: { dischargeSummaries: searchset(documentReference(text)), encounterConditions: searchset() } })),
      });
    // The FHIR edge with a static token claims nothing: its first store call is the cache read.
    const operation = (text: string) =>
      fetch(`${base}${OPERATION}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/fhir+json', Authorization: `Bearer ${FHIR_TOKEN}` },
        body: JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'document', resource: documentReference(text) }] }),
      });
    const timed = async (call: Promise<Response>) => {
      const started = performance.now();
      const res = await call;
      return {
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        body: (await res.json()) as { issue: { code: string }[] },
        ms: performance.now() - started,
      };
    };
    try {
      // Warm: the pool holds open connections, which a frozen server leaves hanging.
      expect((await hook(SAMPLE_NOTE)).status).toBe(200);
      expect((await operation(SAMPLE_NOTE)).status).toBe(200);
      cluster().pause();
      let answers: Awaited<ReturnType<typeof timed>>[];
      try {
        answers = await Promise.all(
          Array.from({ length: 8 }, (_, i) => timed(i % 2 ? operation(`${SAMPLE_NOTE}\nFrozen ${i}.`) : hook(`${SAMPLE_NOTE}\nFrozen ${i}.`))),
        );
      } finally {
        cluster().resume();
      }
      for (const a of answers) {
        expect({ status: a.status, code: a.body.issue[0].code, retryAfter: a.retryAfter }).toEqual({ status: 503, code: 'transient', retryAfter: '5' });
        expectValidFhir(a.body);
        expect(a.ms).toBeLessThan(STORE.storeConnectTimeoutMs + STORE.storeStatementTimeoutMs + 1000);
      }
      const resumed = performance.now();
      let status = 0;
      while (status !== 200 && performance.now() - resumed < 5000) status = (await operation(`${SAMPLE_NOTE}\nResumed.`)).status;
      expect(status).toBe(200);
    } finally {
      cluster().resume();
      await replica.settled();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await replica.store.close();
    }
  }, 60_000);
});
