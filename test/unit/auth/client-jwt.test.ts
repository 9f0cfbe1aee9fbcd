/**
 * The verifier on its own, with the CDS Hooks 2.0.1 spec's example token (Trusting CDS
 * Clients > Example): its signature is good, so the refusal today is for its expiry alone.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AuthFailure, clientJwtVerifier } from '../../../src/auth/client-jwt';
import { openSqliteStore } from '../../../src/store/sqlite';
import { StoreUnavailableError, type Store } from '../../../src/store/store';
import { clientClaims, signedToken, testSigner } from '../../helpers/tokens';

const SPEC = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'cds-hooks', 'spec-2.0.1', 'jwt-es384-example.json'), 'utf8'));
const SPEC_CLIENT = { iss: SPEC.payload.iss, jwks: SPEC.jwks, jku: SPEC.header.jku };

let store: Store;
beforeEach(() => {
  store = openSqliteStore(':memory:');
});
afterEach(() => store.close());
/** Token ids claimed in a real (in-memory SQLite) store, as the service claims them. */
const claims = () => ({ claimTokenId: store.claimTokenId.bind(store) });

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

test('the spec example token is refused today as expired', async () => {
  const verify = clientJwtVerifier([SPEC_CLIENT], { clockSkewSeconds: 60, ...claims() });
  const error = await failureOf(verify(SPEC.compact, SPEC.audience));
  expect(error).toBeInstanceOf(AuthFailure);
  expect(error).toMatchObject({ reason: 'token expired (exp)', iss: SPEC.payload.iss });
});

test('at the instant the spec verified it (and with no age limit), the same token passes every check', async () => {
  const verify = clientJwtVerifier([SPEC_CLIENT], {
    clockSkewSeconds: 60,
    maxTokenAgeSeconds: 10 * 365 * 86400,
    now: () => new Date(SPEC.verifiableAt),
    ...claims(),
  });
  await expect(verify(SPEC.compact, SPEC.audience)).resolves.toEqual({ iss: SPEC.payload.iss, jti: SPEC.payload.jti, tenant: SPEC.payload.tenant });
  await expect(failureOf(verify(SPEC.compact, SPEC.audience))).resolves.toMatchObject({ reason: 'jti replayed' });
});

test('with no trusted client, every token is refused', async () => {
  await expect(failureOf(clientJwtVerifier([], { clockSkewSeconds: 60, ...claims() })(SPEC.compact, SPEC.audience))).resolves.toMatchObject({
    reason: 'no trusted clients are configured',
  });
});

test('the claim lasts until the token could no longer pass (exp or iat + maximum age, plus the skew), judged by the verifier clock', async () => {
  const signer = await testSigner('ES384', 'k');
  const seen: { keepUntil: Date; now?: Date }[] = [];
  const at = new Date('2026-11-25T12:00:00.000Z');
  const verify = clientJwtVerifier([{ iss: 'https://ehr', jwks: { keys: [signer.publicJwk] } }], {
    clockSkewSeconds: 60,
    now: () => at,
    claimTokenId: (issuer, jti, keepUntil, now) => {
      seen.push({ keepUntil, now });
      return store.claimTokenId(issuer, jti, keepUntil, now);
    },
  });
  const aud = 'https://cds/cds-services/x';
  const iat = at.getTime() / 1000;
  await verify(await signedToken(signer, clientClaims('https://ehr', aud, { iat, exp: iat + 300 })), aud);
  await verify(await signedToken(signer, clientClaims('https://ehr', aud, { iat, exp: iat + 7200 })), aud);
  expect(seen).toEqual([
    { keepUntil: new Date((iat + 300 + 60) * 1000), now: at },
    { keepUntil: new Date((iat + 3600 + 60) * 1000), now: at },
  ]);
});

test('a store that cannot answer: the error reaches the caller (503 there), the token is not accepted', async () => {
  const signer = await testSigner('ES384', 'k');
  const verify = clientJwtVerifier([{ iss: 'https://ehr', jwks: { keys: [signer.publicJwk] } }], {
    clockSkewSeconds: 60,
    claimTokenId: () => Promise.reject(new StoreUnavailableError('down')),
  });
  const aud = 'https://cds/cds-services/x';
  await expect(failureOf(verify(await signedToken(signer, clientClaims('https://ehr', aud)), aud))).resolves.toBeInstanceOf(StoreUnavailableError);
});
