/**
 * Client tokens for the authentication tests: key pairs made with jose, JWTs signed with them
 * (or forged: alg none, HS256 with a public key as the secret), and a local HTTP server that
 * serves a JWK Set and records every request it receives.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import type { PublicJwk } from '../../src/auth/trusted-clients';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

export interface TestSigner {
  alg: 'ES384' | 'RS384' | 'ES256';
  kid: string;
  privateKey: KeyPair['privateKey'];
  publicKey: KeyPair['publicKey'];
  publicJwk: PublicJwk;
}

/**
 * A fresh key pair and its public JWK (with kid, use and alg, as a client publishes it).
 * @param alg - signature algorithm
 * @param kid - key id
 */
export async function testSigner(alg: TestSigner['alg'], kid: string): Promise<TestSigner> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { alg, kid, privateKey, publicKey, publicJwk: { ...jwk, kid, use: 'sig', alg } as PublicJwk };
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The claims a CDS client puts in each call's token (CDS Hooks 2.0 §Trusting CDS Clients). */
export function clientClaims(iss: string, aud: string | string[], overrides: Record<string, unknown> = {}): JWTPayload {
  const now = nowSeconds();
  return { iss, aud, exp: now + 300, iat: now, jti: randomUUID(), ...overrides };
}

/**
 * Signs `claims` exactly as given (claims set to undefined are left out).
 * @param signer - key and kid
 * @param claims - the payload
 * @param header - header members added to or replacing alg/typ/kid
 */
export async function signedToken(signer: TestSigner, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  const payload = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
  const protectedHeader = Object.fromEntries(
    Object.entries({ alg: signer.alg, typ: 'JWT', kid: signer.kid, ...header }).filter(([, v]) => v !== undefined),
  ) as { alg: string };
  return new SignJWT(payload).setProtectedHeader(protectedHeader).sign(signer.privateKey);
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An unsecured JWT (`alg: none`, empty signature). */
export function unsecuredToken(claims: JWTPayload, kid: string): string {
  return `${b64url({ alg: 'none', typ: 'JWT', kid })}.${b64url(claims)}.`;
}

/**
 * An HS256 token whose HMAC secret is the client's public key (PEM and JWK forms): the classic
 * algorithm-confusion forgery, which a verifier that lets the token choose the algorithm accepts.
 */
export async function hs256WithPublicKey(signer: TestSigner, claims: JWTPayload, form: 'pem' | 'jwk'): Promise<string> {
  const secret = form === 'pem' ? await exportSPKI(signer.publicKey) : JSON.stringify(signer.publicJwk);
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: signer.kid }).sign(new TextEncoder().encode(secret));
}

export interface JwksServer {
  /** e.g. http://127.0.0.1:1234 */
  origin: string;
  /** Every path requested, in order. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * A local JWK Set host: `/jwks.json` answers the given keys; anything else is 404. Every
 * request is recorded, so tests can show that a URL was never fetched.
 * @param keys - the public keys served
 */
export async function startJwksServer(keys: (PublicJwk | JWK)[]): Promise<JwksServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url!);
    if (req.url === '/jwks.json') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ keys }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
