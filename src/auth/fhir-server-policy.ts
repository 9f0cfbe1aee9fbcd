/**
 * Which FHIR servers a CDS client may send the service to. A hook request names its own
 * `fhirServer` and the service GETs from it with the hook's token: left open, any
 * authenticated client could make the service fetch from an internal address or a cloud
 * metadata endpoint. So each trusted client lists the FHIR server base URLs it may name
 * (`fhirServers` in CDS_CLIENTS), and with AUTH=off, where there is no client to ask,
 * loopback and private addresses are refused unless ALLOW_PRIVATE_FHIR_SERVERS=on.
 *
 * A refused server is never contacted: the hook answers as if the prefetch could not be
 * completed (CDS Hooks 2.0 §Prefetch: the service may then fetch, and cannot here).
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { Caller } from './authenticate';
import { fhirBaseOf, type TrustedClient } from './trusted-clients';

export type FhirServerVerdict = { allowed: true } | { allowed: false; reason: string };

export interface FhirServerPolicy {
  /**
   * @param caller - who made the hook call (res.locals.auth)
   * @param fhirServer - the request's `fhirServer`
   */
  check(caller: Caller, fhirServer: string): Promise<FhirServerVerdict>;
}

// Loopback, private, link-local (cloud metadata at 169.254.169.254), shared, unspecified,
// multicast and reserved ranges (IANA special-purpose registries, RFC 6890).
const NOT_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv6');

/** Whether an IP address is one a public FHIR server could have. */
export function isPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return isPublicAddress(mapped[1]);
  const family = isIP(address);
  if (family === 0) return false;
  return !NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * @param options - whether auth is on, the trusted clients, ALLOW_PRIVATE_FHIR_SERVERS, and a
 *   resolver (tests pass their own)
 */
export function fhirServerPolicy(options: {
  auth: 'on' | 'off';
  clients: readonly TrustedClient[];
  allowPrivate: boolean;
  resolve?: (host: string) => Promise<string[]>;
}): FhirServerPolicy {
  const resolve = options.resolve ?? (async (host: string) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address));
  const allowed = new Map(options.clients.map((c) => [c.iss, new Set(c.fhirServers ?? [])]));
  return {
    async check(caller, fhirServer) {
      const base = fhirBaseOf(fhirServer);
      if (!base) return { allowed: false, reason: 'fhirServer is not an http(s) base URL' };
      if (caller.scheme === 'jwt') {
        return allowed.get(caller.iss)?.has(base) ? { allowed: true } : { allowed: false, reason: "fhirServer is not among the client's fhirServers" };
      }
      if (options.auth === 'on') return { allowed: false, reason: 'no trusted client to allow this fhirServer' };
      if (options.allowPrivate) return { allowed: true };
      const host = new URL(base).hostname.replace(/^\[(.*)\]$/, '$1');
      let addresses: string[];
      try {
        addresses = isIP(host) ? [host] : await resolve(host);
      } catch {
        return { allowed: false, reason: 'fhirServer host does not resolve' };
      }
      // Every address must be public: a name resolving to one private address is refused.
      if (addresses.length === 0 || !addresses.every(isPublicAddress)) {
        return { allowed: false, reason: 'fhirServer is on a loopback or private address (ALLOW_PRIVATE_FHIR_SERVERS is off)' };
      }
      return { allowed: true };
    },
  };
}
