/**
 * Read-only access to the CDS Client's FHIR server (CDS Hooks 2.0 §FHIR Resource Access).
 *
 * The hook's access token is sent only to URLs under `fhirServer`: every URL (search,
 * next-page link, attachment url, redirect target) is checked against the base before the
 * request is made. Only GET is ever issued: this service never writes to an EHR.
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';

export class FhirAccessError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'FhirAccessError';
  }
}

export interface FhirClient {
  /** Runs a search (e.g. `DocumentReference?patient=1`), following next links. */
  search(query: string): Promise<Resource[]>;
  /** The remaining pages of a searchset Bundle the client already has (prefetch). */
  morePages(bundle: Bundle): Promise<Resource[]>;
  /** Reads an attachment url (relative, or absolute under the base) as base64 data. */
  attachment(url: string): Promise<{ contentType: string; data: string }>;
}

export interface FhirClientOptions {
  baseUrl: string;
  accessToken?: string;
  timeoutMs: number;
  /** Largest response body read, in bytes. */
  maxBytes: number;
  /** Most search pages followed. */
  maxPages?: number;
}

const MAX_REDIRECTS = 3;

/**
 * @param options - base URL, token and limits
 */
export function createFhirClient(options: FhirClientOptions): FhirClient {
  const base = new URL(options.baseUrl.replace(/\/*$/, '/'));
  const maxPages = options.maxPages ?? 10;

  /** Resolves a URL against the base and refuses anything outside it. */
  function underBase(url: string): URL {
    let resolved: URL;
    try {
      resolved = new URL(url, base);
    } catch {
      throw new FhirAccessError('invalid URL');
    }
    if (resolved.origin !== base.origin || !resolved.pathname.startsWith(base.pathname)) {
      throw new FhirAccessError('URL is outside the FHIR server');
    }
    return resolved;
  }

  async function get(url: URL, accept: string): Promise<{ contentType: string; body: Buffer }> {
    let target = url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      let response: Response;
      try {
        response = await fetch(target, {
          method: 'GET',
          redirect: 'manual',
          headers: {
            Accept: accept,
            ...(options.accessToken ? { Authorization: `Bearer ${options.accessToken}` } : {}),
          },
          signal: AbortSignal.timeout(options.timeoutMs),
        });
      } catch (error) {
        throw accessErrorOf(error);
      }
      if (response.status >= 300 && response.status < 400) {
        const location = response.headers.get('location');
        await response.body?.cancel().catch(() => undefined);
        // A redirect is followed only within the FHIR server, so the token never leaves it.
        if (!location) throw new FhirAccessError(`HTTP ${response.status} without Location`);
        let next: URL;
        try {
          next = new URL(location, target);
        } catch {
          throw new FhirAccessError('invalid redirect Location');
        }
        target = underBase(next.href);
        continue;
      }
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        throw new FhirAccessError(`HTTP ${response.status}`);
      }
      const declared = Number(response.headers.get('content-length') ?? 0);
      if (declared > options.maxBytes) {
        await response.body?.cancel().catch(() => undefined);
        throw new FhirAccessError('response too large');
      }
      // The timeout also covers the body: a server that stalls after its headers rejects here.
      let body: Buffer;
      try {
        body = Buffer.from(await response.arrayBuffer());
      } catch (error) {
        throw accessErrorOf(error);
      }
      if (body.length > options.maxBytes) throw new FhirAccessError('response too large');
      return { contentType: response.headers.get('content-type') ?? '', body };
    }
    throw new FhirAccessError('too many redirects');
  }

  async function getJson(url: URL): Promise<Resource> {
    const { body } = await get(url, 'application/fhir+json');
    try {
      const json = JSON.parse(body.toString('utf8'));
      if (!json || typeof json.resourceType !== 'string') throw new Error();
      return json as Resource;
    } catch {
      throw new FhirAccessError('response is not a FHIR resource');
    }
  }

  async function pagesFrom(bundle: Bundle, pagesLeft: number): Promise<Resource[]> {
    const resources: Resource[] = [];
    let current: Bundle = bundle;
    for (let page = 0; page < pagesLeft; page++) {
      const next = nextPageOf(current);
      if (!next) break;
      const resource = await getJson(underBase(next));
      if (resource.resourceType !== 'Bundle') throw new FhirAccessError('next page is not a Bundle');
      current = resource;
      resources.push(...entriesOf(current));
    }
    return resources;
  }

  return {
    async search(query) {
      const first = await getJson(underBase(query));
      if (first.resourceType !== 'Bundle') {
        // The reason is logged: name the type only when it looks like one (it comes from outside).
        throw new FhirAccessError(`search returned ${/^[A-Z][A-Za-z]{1,63}$/.test(first.resourceType) ? first.resourceType : 'something else'}, not a Bundle`);
      }
      return [...entriesOf(first), ...(await pagesFrom(first, maxPages - 1))];
    },
    morePages: (bundle) => pagesFrom(bundle, maxPages),
    async attachment(url) {
      const target = underBase(url);
      const { contentType, body } = await get(target, 'application/fhir+json, */*;q=0.5');
      if (/^application\/(fhir\+)?json\b/i.test(contentType)) {
        // R4 Binary read with a FHIR Accept header returns the Binary resource.
        let binary: { resourceType?: unknown; contentType?: unknown; data?: unknown } | null;
        try {
          binary = JSON.parse(body.toString('utf8'));
        } catch {
          throw new FhirAccessError('attachment is not a Binary resource');
        }
        if (!binary || binary.resourceType !== 'Binary' || typeof binary.contentType !== 'string' || !binary.contentType || typeof binary.data !== 'string') {
          throw new FhirAccessError('attachment is not a Binary resource with data');
        }
        return { contentType: binary.contentType, data: binary.data };
      }
      return { contentType: contentType || 'application/octet-stream', data: body.toString('base64') };
    },
  };
}

/** A fetch failure (before or during the body) as a FhirAccessError. */
function accessErrorOf(error: unknown): FhirAccessError {
  return new FhirAccessError((error as Error)?.name === 'TimeoutError' ? 'timeout' : 'connection failed');
}

/**
 * Resources of a Bundle's entries, leaving out search outcomes (OperationOutcome).
 * A tolerant reader: prefetched and fetched Bundles are not schema-checked, so an `entry`
 * that is not an array, or entries and resources that are not objects, are skipped.
 */
export function entriesOf(bundle: Bundle): Resource[] {
  return (Array.isArray(bundle.entry) ? bundle.entry : [])
    .map((e) => (e && typeof e === 'object' ? e.resource : undefined))
    .filter((r): r is Resource => !!r && typeof r === 'object' && typeof r.resourceType === 'string' && r.resourceType !== 'OperationOutcome');
}

/** The `next` link of a searchset page, if it has one (tolerant reader, as entriesOf). */
export function nextPageOf(bundle: Bundle): string | undefined {
  const links = Array.isArray(bundle.link) ? bundle.link : [];
  const next = links.find((l) => l && typeof l === 'object' && l.relation === 'next' && typeof l.url === 'string');
  return next?.url;
}
