/**
 * The verifier on its own, with the CDS Hooks 2.0.1 spec's example token (Trusting CDS
 * Clients > Example): its signature is good, so the refusal today is for its expiry alone.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AuthFailure, clientJwtVerifier, ReplayCacheFull } from '../../../src/auth/client-jwt';
import { ReplayCache } from '../../../src/auth/replay-cache';
import { clientClaims, signedToken, testSigner } from '../../helpers/tokens';

const SPEC = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'cds-hooks', 'spec-2.0.1', 'jwt-es384-example.json'), 'utf8'));
const SPEC_CLIENT = { iss: SPEC.payload.iss, jwks: SPEC.jwks, jku: SPEC.header.jku };

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

test('the spec example token is refused today as expired', async () => {
  const verify = clientJwtVerifier([SPEC_CLIENT], { clockSkewSeconds: 60 });
  const error = await failureOf(verify(SPEC.compact, SPEC.audience));
  expect(error).toBeInstanceOf(AuthFailure);
  expect(error).toMatchObject({ reason: 'token expired (exp)', iss: SPEC.payload.iss });
});

test('at the instant the spec verified it (and with no age limit), the same token passes every check', async () => {
  const verify = clientJwtVerifier([SPEC_CLIENT], {
    clockSkewSeconds: 60,
    maxTokenAgeSeconds: 10 * 365 * 86400,
    now: () => new Date(SPEC.verifiableAt),
  });
  await expect(verify(SPEC.compact, SPEC.audience)).resolves.toEqual({ iss: SPEC.payload.iss, jti: SPEC.payload.jti, tenant: SPEC.payload.tenant });
  await expect(failureOf(verify(SPEC.compact, SPEC.audience))).resolves.toMatchObject({ reason: 'jti replayed' });
});

test('with no trusted client, every token is refused', async () => {
  await expect(failureOf(clientJwtVerifier([], { clockSkewSeconds: 60 })(SPEC.compact, SPEC.audience))).resolves.toMatchObject({
    reason: 'no trusted clients are configured',
  });
});

test('a full replay cache refuses good tokens with ReplayCacheFull (503), never evicting a live jti', async () => {
  const signer = await testSigner('ES384', 'k');
  const verify = clientJwtVerifier([{ iss: 'https://ehr', jwks: { keys: [signer.publicJwk] } }], { clockSkewSeconds: 60, replayCache: new ReplayCache(1) });
  const aud = 'https://cds/cds-services/x';
  await verify(await signedToken(signer, clientClaims('https://ehr', aud)), aud);
  await expect(failureOf(verify(await signedToken(signer, clientClaims('https://ehr', aud)), aud))).resolves.toBeInstanceOf(ReplayCacheFull);
});
