/**
 * Two replicas on one PostgreSQL database: two app instances, each with its own store (its own
 * pool) on the same database, as two processes behind one load balancer run. They share the
 * client-token ids (a jti used at one is refused at the other), the feedback (sent to one, it
 * counts in the other's acceptance report) and the result cache (a note analysed by one is
 * answered from the cache by the other).
 */
import { randomUUID } from 'node:crypto';
import type { Condition } from '@medplum/fhirtypes';
import request from 'supertest';
import type { TrustedClient } from '../../src/auth/trusted-clients';
import { reportOf } from '../../src/cli/report';
import type { Card } from '../../src/cds/types';
import { createTestApp } from '../helpers/app';
import { expectValidCds, expectValidFhir } from '../helpers/expect-valid';
import { describeWithPostgres, usePostgres } from '../helpers/postgres';
import { documentReference, hookRequest, SAMPLE_NOTE, searchset } from '../helpers/resources';
import { clientClaims, signedToken, testSigner, type TestSigner } from '../helpers/tokens';

const BASE = 'https://cds.example.org';
const SERVICE = '/cds-services/icd10cm-suggestions';
const EHR = 'https://ehr.example.org';
const OPERATION = '/fhir/DocumentReference/$suggest-conditions';

type Replica = Awaited<ReturnType<typeof createTestApp>>;

const hookBody = (text: string) => hookRequest({ prefetch: { dischargeSummaries: searchset(documentReference(text)), encounterConditions: searchset() } });
const codeOf = (card: Card) => (card.suggestions![0].actions[0].resource as Condition).code!.coding![0].code!;

describeWithPostgres('two replicas on one PostgreSQL database', () => {
  const cluster = usePostgres();
  let signer: TestSigner;
  let a: Replica;
  let b: Replica;
  let url: string;

  beforeAll(async () => {
    signer = await testSigner('ES384', 'es-1');
    const cdsClients: TrustedClient[] = [{ iss: EHR, jwks: { keys: [signer.publicJwk] } }];
    url = await cluster().createDatabase();
    // Same configuration (one PUBLIC_BASE_URL behind the load balancer), own uuids, own pools.
    const config = { auth: 'on' as const, cdsClients, publicBaseUrl: BASE, storeUrl: url, storeConnectTimeoutMs: 2000, hookTimeBudgetMs: 30_000 };
    [a, b] = await Promise.all([createTestApp(config, undefined, randomUUID), createTestApp(config, undefined, randomUUID)]);
    expect([a.store.kind, b.store.kind]).toEqual(['postgresql', 'postgresql']);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a, b].map(async (r) => r && (await r.settled(), await r.store.close())));
  });

  const token = async (path = SERVICE) => signedToken(signer, clientClaims(EHR, `${BASE}${path}`));
  const hook = (replica: Replica, jwt: string, body: unknown) =>
    request(replica.app).post(SERVICE).set('Content-Type', 'application/json').set('Authorization', `Bearer ${jwt}`).send(JSON.stringify(body));

  test('a jti used at one replica is refused at the other, and two replicas given the same token at once accept it once', async () => {
    const jwt = await token();
    const first = await hook(a, jwt, hookBody(SAMPLE_NOTE));
    expect(first.status).toBe(200);
    expectValidCds('response', first.body);

    const replayed = await hook(b, jwt, hookBody(SAMPLE_NOTE));
    expect(replayed.status).toBe(401);
    expect(replayed.headers['www-authenticate']).toBe('Bearer');
    expect(replayed.body).toEqual({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'login', details: { text: 'Authentication failed' } }],
    });
    const reason = b.logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'authentication failed' && l.requestId === replayed.headers['x-request-id']);
    expect(reason).toMatchObject({ reason: 'jti replayed', iss: EHR });

    // A race: the same fresh token at both replicas at the same moment.
    const raced = await token();
    const answers = await Promise.all([hook(a, raced, hookBody(SAMPLE_NOTE)), hook(b, raced, hookBody(SAMPLE_NOTE))]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  test('feedback sent to one replica counts in the acceptance report of the other', async () => {
    const note = `${SAMPLE_NOTE}\nFeedback case.`;
    const res = await hook(a, await token(), hookBody(note));
    expect(res.status).toBe(200);
    const cards = (res.body.cards as Card[]).filter((c) => c.suggestions?.length);
    expect(cards.length).toBeGreaterThan(0);
    const card = cards[0];
    const before = (await b.store.acceptanceReport()).codes.find((c) => c.code === codeOf(card));

    const body = {
      feedback: [{ card: card.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: card.suggestions![0].uuid }], outcomeTimestamp: '2026-11-25T12:05:00Z' }],
    };
    expectValidCds('feedback', body);
    const fb = await request(b.app)
      .post(`${SERVICE}/feedback`)
      .set('Content-Type', 'application/json')
      .set('Authorization', `Bearer ${await token(`${SERVICE}/feedback`)}`)
      .send(JSON.stringify(body));
    expect(fb.status).toBe(200);

    // B knows the card (A audited it), and A's report counts the feedback B received.
    expect(await b.store.feedbackRecords({ card: card.uuid })).toEqual([expect.objectContaining({ known: true, code: codeOf(card), outcome: 'accepted' })]);
    const after = (await a.store.acceptanceReport()).codes.find((c) => c.code === codeOf(card));
    expect(after).toMatchObject({ cardsWithFeedback: (before?.cardsWithFeedback ?? 0) + 1, accepted: (before?.accepted ?? 0) + 1 });
    // `npm run report` on the shared database says the same, and names it without the password.
    const report = await reportOf(url);
    expect(report).toEqual({ store: `postgres://icd10@127.0.0.1:${cluster().port}${new URL(url).pathname}`, ...(await b.store.acceptanceReport()) });
    expect(JSON.stringify(report)).not.toContain(new URL(url).password);
  });

  test('a result cached by one replica is served by the other, at both edges', async () => {
    const note = `${SAMPLE_NOTE}\nCache case.`;
    const first = await hook(a, await token(), hookBody(note));
    expect(first.status).toBe(200);
    await a.settled();
    const second = await hook(b, await token(), hookBody(note));
    expect(second.status).toBe(200);
    expectValidCds('response', second.body);
    const withoutIds = (cards: Card[]) =>
      JSON.parse(JSON.stringify(cards).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'id')) as unknown;
    expect(withoutIds(second.body.cards)).toEqual(withoutIds(first.body.cards));

    const op = await request(b.app)
      .post(OPERATION)
      .set('Content-Type', 'application/fhir+json')
      .set('Authorization', `Bearer ${await token(OPERATION)}`)
      .send(JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'document', resource: documentReference(note) }] }));
    expect(op.status).toBe(200);
    expectValidFhir(op.body);

    // Either store reads the one audit trail: computed at A, then cached at B (hook and operation).
    const records = (await a.store.auditRecords()).filter((r) => [first, second, op].some((res) => res.headers['x-request-id'] === r.requestId));
    expect(records.map((r) => [r.requestId === first.headers['x-request-id'] ? 'a' : 'b', r.analysis ?? 'computed'])).toEqual([
      ['a', 'computed'],
      ['b', 'cached'],
      ['b', 'cached'],
    ]);
  });
});
