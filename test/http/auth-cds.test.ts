/**
 * Client authentication at the CDS Hooks edge (CDS Hooks 2.0 §Trusting CDS Clients): every
 * service and feedback call carries a JWT signed by a trusted client; discovery and CORS
 * preflight need none; every refusal is the same 401 OperationOutcome.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { TrustedClient } from '../../src/auth/trusted-clients';
import { createTestApp } from '../helpers/app';
import { expectValidCds } from '../helpers/expect-valid';
import {
  clientClaims,
  hs256WithPublicKey,
  nowSeconds,
  signedToken,
  startJwksServer,
  testSigner,
  unsecuredToken,
  type JwksServer,
  type TestSigner,
} from '../helpers/tokens';

const BASE = 'https://cds.example.org';
const SERVICE = '/cds-services/icd10cm-suggestions';
const AUD = `${BASE}${SERVICE}`;
const EHR = 'https://ehr.example.org';
const EHR_JKU = 'https://ehr2.example.org';
const FIXTURES = path.join(__dirname, '..', 'fixtures');
const HOOK_REQUEST = readFileSync(path.join(FIXTURES, 'requests', 'encounter-discharge.json'), 'utf8');
const SPEC_JWT = JSON.parse(readFileSync(path.join(FIXTURES, 'cds-hooks', 'spec-2.0.1', 'jwt-es384-example.json'), 'utf8'));
const REFUSAL = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login', details: { text: 'Authentication failed' } }] };

let es: TestSigner;
let rs: TestSigner;
let remote: TestSigner;
let jwks: JwksServer;
let app: Awaited<ReturnType<typeof createTestApp>>['app'];
let logs: string[];

beforeAll(async () => {
  [es, rs, remote] = await Promise.all([testSigner('ES384', 'es-1'), testSigner('RS384', 'rs-1'), testSigner('ES384', 'remote-1')]);
  jwks = await startJwksServer([remote.publicJwk]);
  const cdsClients: TrustedClient[] = [
    { iss: EHR, jwks: { keys: [es.publicJwk, rs.publicJwk] } },
    { iss: EHR_JKU, jku: `${jwks.origin}/jwks.json` },
    // The spec example's issuer, trusted with the spec's own key and jku: its token is still refused (expired).
    { iss: SPEC_JWT.payload.iss, jwks: SPEC_JWT.jwks, jku: SPEC_JWT.header.jku },
  ];
  ({ app, logs } = await createTestApp({ auth: 'on', cdsClients, publicBaseUrl: BASE }));
});
afterAll(() => jwks.close());

const callService = (token?: string, path = SERVICE) => {
  const req = request(app).post(path).set('Content-Type', 'application/json');
  return (token ? req.set('Authorization', `Bearer ${token}`) : req).send(HOOK_REQUEST);
};

/** The one refusal: 401, the generic OperationOutcome, the Bearer challenge. */
function expectRefused(res: request.Response) {
  expect(res.status).toBe(401);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(res.headers['www-authenticate']).toBe('Bearer');
  expect(res.body).toEqual(REFUSAL);
}

/** The warning logged for the request `res` answered, with its reason. */
function refusalLogOf(res: request.Response): Record<string, unknown> | undefined {
  return logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'authentication failed' && l.requestId === res.headers['x-request-id']);
}

describe('public endpoints', () => {
  test('discovery needs no token', async () => {
    const res = await request(app).get('/cds-services');
    expect(res.status).toBe(200);
    expectValidCds('discovery', res.body);
  });

  test('CORS preflight needs no token and allows Authorization and Content-Type', async () => {
    for (const path of [SERVICE, `${SERVICE}/feedback`]) {
      const res = await request(app)
        .options(path)
        .set('Origin', 'https://sandbox.cds-hooks.org')
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'authorization,content-type');
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-methods']).toContain('POST');
      expect(res.headers['access-control-allow-headers']).toMatch(/Authorization.*Content-Type/);
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    }
  });

  test('a refusal is readable cross-origin, challenge included', async () => {
    const res = await callService().set('Origin', 'https://sandbox.cds-hooks.org');
    expectRefused(res);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-expose-headers']).toContain('WWW-Authenticate');
  });
});

describe('accepted tokens', () => {
  test.each(['ES384', 'RS384'])('a %s token of a client with inline keys', async (alg) => {
    const signer = alg === 'ES384' ? es : rs;
    const claims = clientClaims(EHR, AUD, { tenant: '2ddd6c3a' });
    const res = await callService(await signedToken(signer, claims));
    expect(res.status).toBe(200);
    expectValidCds('response', res.body);
    expect(res.body.cards.length).toBeGreaterThan(0);
    const accepted = logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'caller authenticated' && l.requestId === res.headers['x-request-id']);
    expect(accepted).toMatchObject({ scheme: 'jwt', iss: EHR, jti: claims.jti, tenant: '2ddd6c3a' });
  });

  test('aud as an array naming the service; a trailing slash and a query string do not matter', async () => {
    expect((await callService(await signedToken(es, clientClaims(EHR, ['https://other.example.org', AUD])))).status).toBe(200);
    expect((await callService(await signedToken(es, clientClaims(EHR, `${AUD}/`)))).status).toBe(200);
    expect((await callService(await signedToken(es, clientClaims(EHR, AUD)), `${SERVICE}?x=1`)).status).toBe(200);
  });

  test('exp just past and iat just ahead, within the 60 s skew', async () => {
    const now = nowSeconds();
    expect((await callService(await signedToken(es, clientClaims(EHR, AUD, { exp: now - 30, iat: now - 90 })))).status).toBe(200);
    expect((await callService(await signedToken(es, clientClaims(EHR, AUD, { iat: now + 30 })))).status).toBe(200);
  });

  test('a client whose keys are at its configured jku: fetched from there, once, then cached', async () => {
    jwks.requests.length = 0;
    expect((await callService(await signedToken(remote, clientClaims(EHR_JKU, AUD)))).status).toBe(200);
    expect((await callService(await signedToken(remote, clientClaims(EHR_JKU, AUD), { jku: `${jwks.origin}/jwks.json` }))).status).toBe(200);
    expect(jwks.requests).toEqual(['/jwks.json']);
  });

  test('feedback: aud is the feedback URL', async () => {
    const feedback = JSON.parse(readFileSync(path.join(FIXTURES, 'cds-hooks', 'spec-2.0.1', 'feedback-overridden.json'), 'utf8'));
    const send = (aud: string, body: object) =>
      signedToken(es, clientClaims(EHR, aud)).then((token) =>
        request(app).post(`${SERVICE}/feedback`).set('Content-Type', 'application/json').set('Authorization', `Bearer ${token}`).send(body),
      );
    expect((await send(`${AUD}/feedback`, feedback)).status).toBe(200);
    // Authenticated, then the body is checked.
    expect((await send(`${AUD}/feedback`, {})).status).toBe(400);
    // A token for the service itself is not one for its feedback endpoint.
    expectRefused(await send(AUD, feedback));
  });
});

describe('refused tokens: 401, the same body, the reason only in the log', () => {
  test('no Authorization header, another scheme, an empty bearer', async () => {
    expectRefused(await callService());
    expectRefused(await request(app).post(SERVICE).set('Content-Type', 'application/json').set('Authorization', 'Basic dXNlcjpwYXNz').send(HOOK_REQUEST));
    expectRefused(await request(app).post(SERVICE).set('Content-Type', 'application/json').set('Authorization', 'Bearer ').send(HOOK_REQUEST));
  });

  test('the CDS Hooks spec example token: valid signature, trusted issuer, but expired in 2015', async () => {
    const res = await callService(SPEC_JWT.compact);
    expectRefused(res);
    expect(refusalLogOf(res)).toMatchObject({ level: 40, reason: 'token expired (exp)', iss: SPEC_JWT.payload.iss });
  });

  const now = nowSeconds();
  test.each<[string, () => Promise<string>, string]>([
    ['wrong aud (another service)', () => signedToken(es, clientClaims(EHR, `${BASE}/cds-services/other-service`)), 'aud does not name the invoked URL'],
    ['wrong aud (another host)', () => signedToken(es, clientClaims(EHR, `https://evil.example.org${SERVICE}`)), 'aud does not name the invoked URL'],
    ['wrong aud (discovery URL)', () => signedToken(es, clientClaims(EHR, `${BASE}/cds-services`)), 'aud does not name the invoked URL'],
    ['untrusted iss', () => signedToken(es, clientClaims('https://evil.example.org', AUD)), 'issuer not trusted'],
    ['trusted iss, key of another client', () => signedToken(es, clientClaims(EHR_JKU, AUD), { kid: 'remote-1' }), 'signature does not verify'],
    ['unknown kid', () => signedToken(es, clientClaims(EHR, AUD), { kid: 'nope' }), 'no key of this issuer has this kid'],
    ['no kid', () => signedToken(es, clientClaims(EHR, AUD), { kid: undefined }), 'no kid in the header'],
    ['typ other than JWT', () => signedToken(es, clientClaims(EHR, AUD), { typ: 'at+jwt' }), 'typ is not JWT'],
    ['missing exp', () => signedToken(es, clientClaims(EHR, AUD, { exp: undefined })), 'claim exp missing'],
    ['missing iat', () => signedToken(es, clientClaims(EHR, AUD, { iat: undefined })), 'claim iat missing'],
    ['missing jti', () => signedToken(es, clientClaims(EHR, AUD, { jti: undefined })), 'claim jti missing'],
    ['missing aud', () => signedToken(es, clientClaims(EHR, AUD, { aud: undefined })), 'claim aud missing'],
    ['expired beyond the skew', () => signedToken(es, clientClaims(EHR, AUD, { exp: now - 120, iat: now - 400 })), 'token expired (exp)'],
    ['iat in the future beyond the skew', () => signedToken(es, clientClaims(EHR, AUD, { iat: now + 300, exp: now + 600 })), 'claim iat invalid'],
    ['issued more than an hour ago', () => signedToken(es, clientClaims(EHR, AUD, { iat: now - 7200, exp: now + 600 })), 'token too old (iat)'],
    ['alg none', async () => unsecuredToken(clientClaims(EHR, AUD), 'es-1'), 'algorithm none not allowed'],
    ['HS256, secret = the client public key (PEM)', () => hs256WithPublicKey(es, clientClaims(EHR, AUD), 'pem'), 'algorithm HS256 not allowed'],
    ['HS256, secret = the client public key (JWK)', () => hs256WithPublicKey(rs, clientClaims(EHR, AUD), 'jwk'), 'algorithm HS256 not allowed'],
    ['ES256 (not an allowed algorithm)', async () => signedToken(await testSigner('ES256', 'es-1'), clientClaims(EHR, AUD)), 'algorithm ES256 not allowed'],
    [
      'RS384 header on an ES384 key',
      async () => {
        const [h, p, s] = (await signedToken(es, clientClaims(EHR, AUD))).split('.');
        const header = JSON.parse(Buffer.from(h, 'base64url').toString());
        return [Buffer.from(JSON.stringify({ ...header, alg: 'RS384' })).toString('base64url'), p, s].join('.');
      },
      'no key of this issuer has this kid',
    ],
    [
      'payload changed after signing',
      async () => {
        const [h, , s] = (await signedToken(es, clientClaims(EHR, AUD))).split('.');
        return [h, Buffer.from(JSON.stringify(clientClaims(EHR, AUD, { iss: EHR }))).toString('base64url'), s].join('.');
      },
      'signature does not verify',
    ],
    ['not a JWT', async () => 'abc.def', 'malformed token'],
  ])('%s', async (_name, token, reason) => {
    const minted = await token();
    const res = await callService(minted);
    expectRefused(res);
    expect(refusalLogOf(res)?.reason).toBe(reason);
    expect(logs.some((l) => l.includes(minted))).toBe(false);
  });

  test('a replayed jti is refused, even within its lifetime', async () => {
    const token = await signedToken(es, clientClaims(EHR, AUD));
    expect((await callService(token)).status).toBe(200);
    const replay = await callService(token);
    expectRefused(replay);
    expect(refusalLogOf(replay)?.reason).toBe('jti replayed');
  });

  test('a jku other than the configured one is refused and never fetched', async () => {
    jwks.requests.length = 0;
    for (const jku of [`${jwks.origin}/evil.json`, 'https://evil.example.org/jwks.json']) {
      const res = await callService(await signedToken(remote, clientClaims(EHR_JKU, AUD), { jku }));
      expectRefused(res);
      expect(refusalLogOf(res)?.reason).toBe('jku not configured for this issuer');
    }
    // An issuer configured with inline keys only has no jku to honour either.
    expectRefused(await callService(await signedToken(es, clientClaims(EHR, AUD), { jku: `${jwks.origin}/jwks.json` })));
    expect(jwks.requests).toEqual([]);
  });

  test('the token never reaches a log line', async () => {
    const token = await signedToken(es, clientClaims(EHR, AUD));
    await callService(token);
    await callService(token);
    expect(logs.some((l) => l.includes(token) || l.includes(token.split('.')[2]))).toBe(false);
  });
});

describe('aud without PUBLIC_BASE_URL: the request protocol and Host', () => {
  test('accepted when aud names http://<Host><path>, refused otherwise', async () => {
    const { app: hostApp } = await createTestApp({ auth: 'on', cdsClients: [{ iss: EHR, jwks: { keys: [es.publicJwk] } }] });
    const call = async (aud: string) =>
      request(hostApp)
        .post(SERVICE)
        .set('Host', 'cds.internal:8080')
        .set('Content-Type', 'application/json')
        .set('Authorization', `Bearer ${await signedToken(es, clientClaims(EHR, aud))}`)
        .send(HOOK_REQUEST);
    expect((await call(`http://cds.internal:8080${SERVICE}`)).status).toBe(200);
    expectRefused(await call(`https://cds.internal:8080${SERVICE}`));
    expectRefused(await call(AUD));
  });
});

describe('configuration', () => {
  test('auth on with no trusted clients: starts, warns, refuses every call; discovery still works', async () => {
    const { app: bare, logs: bareLogs } = await createTestApp({ auth: 'on', cdsClients: [], publicBaseUrl: BASE });
    expect(bareLogs.some((l) => l.includes('"level":40') && l.includes('no trusted CDS clients (CDS_CLIENTS)'))).toBe(true);
    expect((await request(bare).get('/cds-services')).status).toBe(200);
    const res = await request(bare)
      .post(SERVICE)
      .set('Content-Type', 'application/json')
      .set('Authorization', `Bearer ${await signedToken(es, clientClaims(EHR, AUD))}`)
      .send(HOOK_REQUEST);
    expectRefused(res);
  });

  test('AUTH=off: calls without a token are served, with a warning at start-up and one per call', async () => {
    const { app: open, logs: openLogs } = await createTestApp({ auth: 'off', cdsClients: [] });
    const startup = openLogs.filter((l) => l.includes('AUTH=off: every endpoint accepts calls without authentication'));
    expect(startup).toHaveLength(1);
    const res = await request(open).post(SERVICE).set('Content-Type', 'application/json').send(HOOK_REQUEST);
    expect(res.status).toBe(200);
    const perRequest = openLogs
      .map((l) => JSON.parse(l))
      .filter((l) => l.msg === 'AUTH=off: request accepted without authentication' && l.requestId === res.headers['x-request-id']);
    expect(perRequest).toHaveLength(1);
    expect(perRequest[0].level).toBe(40);
  });
});
