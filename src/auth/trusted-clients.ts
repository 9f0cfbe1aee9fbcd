/**
 * Trusted CDS clients: the entries of the `CDS_CLIENTS` file (config.ts reads the file),
 * checked at start-up.
 *
 * Pure data and checks, no `jose` and no network: main.ts calls `trustedClientsOf` right after
 * the configuration, so a bad file stops the start before the model is loaded. CDS Hooks 2.0 §Trusting CDS Clients: services SHOULD allowlist
 * `iss` and `jku` (https://cds-hooks.hl7.org/2.0/#trusting-cds-clients).
 */
import type { Config } from '../config';

/** A public JSON Web Key as written in the file (RFC 7517); only public members are allowed. */
export interface PublicJwk {
  kty: string;
  kid: string;
  [member: string]: unknown;
}

/** One trusted client: its issuer, and where its public keys come from (inline, remote or both). */
export interface TrustedClient {
  /** The `iss` its tokens carry, compared as an exact string (a trailing slash counts). */
  iss: string;
  /** Keys exchanged out of band. */
  jwks?: { keys: PublicJwk[] };
  /** The only JWK Set URL ever fetched for this issuer (a token's `jku` must equal it). */
  jku?: string;
  /** FHIR server base URLs its hook calls may name as `fhirServer` (auth/fhir-server-policy.ts), normalized by fhirBaseOf. */
  fhirServers?: string[];
}

/** The form base URLs are compared in: parsed, without query, fragment or trailing slashes. */
export function fhirBaseOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
    if (parsed.username || parsed.password) return undefined;
    return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
  } catch {
    return undefined;
  }
}

/** Signature algorithms accepted in client tokens (CDS Hooks 2.0: ES384 and RS384). */
export const ALLOWED_ALGORITHMS = ['ES384', 'RS384'] as const;

const ENTRY_MEMBERS = ['iss', 'jwks', 'jku', 'fhirServers'];
// RFC 7518 §6.2.2 and §6.3.2: members that only a private key has.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
// An RSA modulus of 2048 bits is 342 base64url characters.
const MIN_RSA_MODULUS_CHARS = 342;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Problems of one key; an empty list when the key can verify ES384 or RS384 signatures.
 * @param key - the JWK
 * @param at - where it is, for messages
 */
function keyProblemsOf(key: unknown, at: string): string[] {
  if (!isObject(key)) return [`${at} must be a JSON object (a JWK)`];
  const problems: string[] = [];
  const privateMembers = PRIVATE_MEMBERS.filter((m) => m in key);
  if (privateMembers.length > 0) problems.push(`${at} holds private key material (${privateMembers.join(', ')}): give public keys only`);
  if (typeof key.kid !== 'string' || key.kid === '') problems.push(`${at}.kid must be a non-empty string (tokens select their key by kid)`);
  if (key.use !== undefined && key.use !== 'sig') problems.push(`${at}.use must be "sig" when present`);
  if (key.alg !== undefined && !(ALLOWED_ALGORITHMS as readonly unknown[]).includes(key.alg)) {
    problems.push(`${at}.alg must be ${ALLOWED_ALGORITHMS.join(' or ')} when present`);
  }
  if (key.kty === 'EC') {
    if (key.crv !== 'P-384') problems.push(`${at}.crv must be P-384 (ES384)`);
    if (typeof key.x !== 'string' || typeof key.y !== 'string') problems.push(`${at} must have x and y`);
  } else if (key.kty === 'RSA') {
    if (typeof key.e !== 'string') problems.push(`${at} must have e`);
    if (typeof key.n !== 'string') problems.push(`${at} must have n`);
    else if (key.n.length < MIN_RSA_MODULUS_CHARS) problems.push(`${at}.n is shorter than 2048 bits`);
  } else if (!privateMembers.includes('k')) {
    problems.push(`${at}.kty must be EC or RSA`);
  }
  return problems;
}

/**
 * Whether a JWK Set URL or a FHIR server may be configured: https, or http on the loopback
 * interface only (a JWKS fetched, or a token sent, in clear text elsewhere could be taken in transit).
 * @param value - the configured URL
 */
function secureUrlProblemOf(value: unknown, at: string): string | undefined {
  if (typeof value !== 'string') return `${at} must be a URL string`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${at} must be an absolute URL`;
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  return `${at} must be an https URL (http only on localhost)`;
}

/**
 * Reads the trusted-client list and reports every problem at once.
 * @param json - the parsed file: `[{"iss": "...", "jwks": {"keys": [...]}} | {"iss": "...", "jku": "https://..."}, ...]`
 * @param name - how to name the list in messages (the variable's name)
 * @returns the clients when there is no problem, and the problems
 */
export function parseTrustedClients(json: unknown, name = 'CDS_CLIENTS'): { clients: TrustedClient[]; problems: string[] } {
  if (!Array.isArray(json)) return { clients: [], problems: [`${name} must hold a JSON array of {"iss", "jwks" and/or "jku"} objects`] };
  const problems: string[] = [];
  const clients: TrustedClient[] = [];
  const seen = new Set<string>();
  json.forEach((entry: unknown, i) => {
    const at = `${name}[${i}]`;
    if (!isObject(entry)) {
      problems.push(`${at} must be a JSON object`);
      return;
    }
    // Unknown members are refused: a typo such as "jwks_uri" would otherwise leave a client keyless.
    for (const member of Object.keys(entry)) {
      if (!ENTRY_MEMBERS.includes(member)) problems.push(`${at}.${member} is not a known member (iss, jwks, jku, fhirServers)`);
    }
    const { iss, jwks, jku, fhirServers } = entry;
    if (typeof iss !== 'string' || iss === '') problems.push(`${at}.iss must be a non-empty string`);
    else if (seen.has(iss)) problems.push(`${at}.iss repeats an issuer listed before`);
    else seen.add(iss);
    if (jwks === undefined && jku === undefined) problems.push(`${at} needs "jwks" or "jku" (or both)`);
    if (jwks !== undefined) {
      if (!isObject(jwks) || !Array.isArray(jwks.keys) || jwks.keys.length === 0) {
        problems.push(`${at}.jwks must be a JWK Set: {"keys": [ ... ]} with at least one key`);
      } else {
        jwks.keys.forEach((key, k) => problems.push(...keyProblemsOf(key, `${at}.jwks.keys[${k}]`)));
        const kids = jwks.keys.map((key) => (isObject(key) ? key.kid : undefined)).filter((kid) => typeof kid === 'string');
        if (new Set(kids).size !== kids.length) problems.push(`${at}.jwks has two keys with the same kid`);
      }
    }
    if (jku !== undefined) {
      const problem = secureUrlProblemOf(jku, `${at}.jku`);
      if (problem) problems.push(problem);
    }
    const servers: string[] = [];
    if (fhirServers !== undefined) {
      if (!Array.isArray(fhirServers)) problems.push(`${at}.fhirServers must be an array of FHIR server base URLs`);
      else
        fhirServers.forEach((url, k) => {
          const problem = secureUrlProblemOf(url, `${at}.fhirServers[${k}]`);
          const base = typeof url === 'string' ? fhirBaseOf(url) : undefined;
          if (problem || !base) problems.push(problem ?? `${at}.fhirServers[${k}] must be an http(s) base URL without credentials`);
          else servers.push(base);
        });
    }
    clients.push({
      iss: iss as string,
      ...(jwks !== undefined ? { jwks: jwks as TrustedClient['jwks'] } : {}),
      ...(jku !== undefined ? { jku: jku as string } : {}),
      ...(fhirServers !== undefined ? { fhirServers: servers } : {}),
    });
  });
  return { clients: problems.length > 0 ? [] : clients, problems };
}

/**
 * The trusted clients of the configuration (the CDS_CLIENTS entries), checked.
 * @param config - the parsed configuration
 * @throws Error listing every problem, in the configuration's format
 */
export function trustedClientsOf(config: Pick<Config, 'cdsClients'>): TrustedClient[] {
  const { clients, problems } = parseTrustedClients(config.cdsClients, 'CDS_CLIENTS');
  if (problems.length > 0) throw new Error(`Invalid configuration:\n- ${problems.join('\n- ')}`);
  return clients;
}
