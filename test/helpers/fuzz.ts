/**
 * Hostile requests for the property-based fuzz test (test/http/fuzz.test.ts, `npm run fuzz`):
 * fast-check arbitraries for malformed bodies at every POST endpoint, and the property every
 * response must keep (never 5xx; errors are OperationOutcomes; a 200 passes the response
 * schema).
 */
import fc from 'fast-check';
import { validateCds } from '../../src/cds/wire-checks';
import { validateResource } from '../../src/fhir/validate';
import { base64, documentReference, hookRequest, parametersOf, SAMPLE_NOTE, searchset } from './resources';

export const CDS_SERVICE = '/cds-services/icd10cm-suggestions';
export const FEEDBACK = `${CDS_SERVICE}/feedback`;
export const SUGGEST = '/fhir/DocumentReference/$suggest-conditions';
export type Endpoint = typeof CDS_SERVICE | typeof FEEDBACK | typeof SUGGEST;
export const ENDPOINTS: readonly Endpoint[] = [CDS_SERVICE, FEEDBACK, SUGGEST];

/** One request as sent: method, path, headers and raw body bytes. */
export interface FuzzRequest {
  method: 'POST' | 'GET' | 'PUT' | 'DELETE' | 'PATCH';
  path: string;
  /** What the body was made from, for the failure report. */
  label: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface FuzzResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Gives a request a short printable form for fast-check's counterexample report. */
function described(req: FuzzRequest): FuzzRequest {
  const body = req.body ? req.body.toString('utf8') : '';
  const shown = body.length > 600 ? `${body.slice(0, 600)}… (${req.body!.length} bytes)` : body;
  return Object.assign(req, { [fc.toStringMethod]: () => `${req.method} ${req.path} [${req.label}] ${JSON.stringify(req.headers)} ${JSON.stringify(shown)}` });
}

/** Limits the fuzz app runs with: small, so that random sizes cross them often. */
export const FUZZ_LIMITS = { maxBodyBytes: 64 * 1024, maxNoteChars: 4000, maxJsonDepth: 32 };

const recorded = {
  resourceType: 'Condition',
  id: 'c-1',
  subject: { reference: 'Patient/1288992' },
  encounter: { reference: 'Encounter/456' },
  code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'I10' }] },
};

/** Valid bodies of each endpoint, the starting points of mutations. */
export const VALID_BODIES: Record<Endpoint, unknown[]> = {
  [CDS_SERVICE]: [
    hookRequest({ prefetch: { dischargeSummaries: searchset(documentReference(SAMPLE_NOTE)), encounterConditions: searchset(recorded) } }),
    hookRequest({ prefetch: { dischargeSummaries: documentReference('Type 2 diabetes mellitus. Hypertension.'), encounterConditions: null } }),
    hookRequest({ prefetch: { dischargeSummaries: null } }),
  ],
  [FEEDBACK]: [
    {
      feedback: [
        {
          card: '4e0a3a1e-3283-4575-ab82-028d55fe2719',
          outcome: 'accepted',
          acceptedSuggestions: [{ id: 'e56e1945-20b3-4393-8503-a1a20fd73152' }],
          outcomeTimestamp: '2021-12-11T10:05:31Z',
        },
      ],
    },
    {
      feedback: [
        {
          card: '9368d37b-283f-44a0-93ea-547cebab93ed',
          outcome: 'overridden',
          overrideReason: { reason: { code: 'not-documented', system: 'http://icd10-cds.org/fhir/CodeSystem/override-reason' }, userComment: 'Free text' },
          outcomeTimestamp: '2020-12-11T00:00:00+01:00',
        },
      ],
    },
  ],
  [SUGGEST]: [
    {
      ...parametersOf(documentReference(SAMPLE_NOTE)),
      parameter: [
        { name: 'document', resource: documentReference(SAMPLE_NOTE) },
        { name: 'recordedCondition', resource: recorded },
      ],
    },
    documentReference('<p>Acute <b>bronchitis</b>.</p>', {
      content: [{ attachment: { contentType: 'text/html', data: base64('<p>Acute <b>bronchitis</b>.</p>') } }],
    }),
  ],
};

type Path = (string | number)[];

/** Every path into a JSON value (root included), in document order. */
function pathsOf(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...prefix, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out);
  return out;
}

/** A copy of `root` with the value at `path` replaced (or removed when `replacement` is `REMOVE`). */
const REMOVE = Symbol('remove');
function withAt(root: unknown, path: Path, replacement: unknown): unknown {
  if (path.length === 0) return replacement === REMOVE ? undefined : replacement;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (replacement !== REMOVE) parent[last] = replacement;
  else if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete parent[last];
  return copy;
}

/** JSON text nesting `depth` arrays or objects, built as text (JSON.stringify recurses). */
export function nestedJson(depth: number, kind: 'array' | 'object' = 'array', inner = '1'): string {
  return kind === 'array' ? `${'['.repeat(depth)}${inner}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}${inner}${'}'.repeat(depth)}`;
}

/** Placeholder replaced by raw JSON text after stringify (deep nesting cannot go through JSON.stringify). */
const RAW = '\u0000raw:';

const charsetLabels = fc.constantFrom(
  'utf-8',
  'UTF-8',
  '"utf-8"',
  'utf-16',
  'utf-16le',
  'utf-16be',
  'iso-8859-1',
  'latin1',
  'us-ascii',
  'windows-1252',
  'shift_jis',
  'gb18030',
  'koi8-r',
  'iso-2022-kr',
  'utf-7',
  'x-unknown',
  '',
  '"',
  'utf-8;',
  'utf-8, latin1',
);
/** Attachment contentTypes: supported, unsupported, malformed, with random charset parameters. */
const attachmentContentType = fc.oneof(
  fc.constantFrom(
    'text/plain',
    'text/html',
    'application/xhtml+xml',
    'text/markdown',
    'application/pdf',
    'image/png',
    'text/rtf',
    'TEXT/PLAIN',
    'text/plain;',
    'text',
    '/',
    'text/plain; charset',
    ' text/plain ',
    'text/plain; a=b; a=c',
  ),
  fc.tuple(fc.constantFrom('text/plain', 'text/html', 'application/xhtml+xml'), charsetLabels).map(([t, c]) => `${t}; charset=${c}`),
  fc.string({ maxLength: 40 }),
);

/** The note bytes an attachment may carry: valid text in some charset, random bytes, invalid UTF-8. */
const attachmentBytes = fc.oneof(
  fc.constantFrom(
    Buffer.from(SAMPLE_NOTE, 'utf8'),
    Buffer.from(`\ufeff${SAMPLE_NOTE}`, 'utf16le'),
    Buffer.from(SAMPLE_NOTE, 'latin1'),
    Buffer.from([0xc3, 0x28, 0xa0, 0xa1]),
    Buffer.from([0xff, 0xfe]),
    Buffer.from([0xef, 0xbb, 0xbf]),
  ),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  fc.string({ unit: 'grapheme', maxLength: 200 }).map((s) => Buffer.from(s, 'utf8')),
  fc
    .integer({ min: FUZZ_LIMITS.maxNoteChars - 2, max: FUZZ_LIMITS.maxNoteChars + 2 })
    .map((n) => Buffer.from('pneumonia '.repeat(Math.ceil(n / 10)).slice(0, n))),
  fc.integer({ min: FUZZ_LIMITS.maxBodyBytes - 10, max: FUZZ_LIMITS.maxBodyBytes + 10 }).map((n) => Buffer.alloc(n, 0x61)),
);

/** Strings that are not base64, or barely are. */
const badBase64 = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.constantFrom('', '=', '====', 'YQ', 'YQ=', 'Y Q = =', 'YQ==YQ==', '\t', 'YWJj\nZGVm', 'YW Jj', '////', '++++'),
);

/** Values of every JSON type, including large and deep ones. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      null,
      '',
      0,
      -1,
      1.5,
      1e308,
      true,
      false,
      [],
      {},
      [null],
      { resourceType: 'OperationOutcome', issue: [] },
      { resourceType: 'Bundle' },
      'Patient/1288992',
      '../../etc/passwd',
      '\u0000',
      '\ud800',
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 20_000 }).map((n) => 'x'.repeat(n)) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: FUZZ_LIMITS.maxJsonDepth - 30, max: FUZZ_LIMITS.maxJsonDepth + 3 }).map((d) => `${RAW}${nestedJson(Math.max(1, d))}`),
  },
  { weight: 1, arbitrary: fc.constantFrom(`${RAW}${nestedJson(2000, 'object')}`, `${RAW}${nestedJson(5000)}`) },
);

type Mutation =
  | { kind: 'remove'; at: number }
  | { kind: 'replace'; at: number; value: unknown }
  | { kind: 'retype'; at: number }
  | { kind: 'attachmentData'; data: string }
  | { kind: 'attachmentBytes'; bytes: Buffer; contentType: string }
  | { kind: 'attachmentType'; contentType: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('remove' as const), at: fc.nat() }),
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: hostileValue }) },
  fc.record({ kind: fc.constant('retype' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('attachmentData' as const), data: badBase64 }),
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('attachmentBytes' as const), bytes: attachmentBytes, contentType: attachmentContentType }) },
  fc.record({ kind: fc.constant('attachmentType' as const), contentType: attachmentContentType }),
);

/** The same value as another JSON type (string ↔ number ↔ array ↔ object ↔ boolean ↔ null). */
function retyped(value: unknown): unknown {
  if (typeof value === 'string') return value.length;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : null;
  if (Array.isArray(value)) return value.length > 0 ? value[0] : {};
  if (value && typeof value === 'object') return [value];
  return false;
}

/** Applies one mutation; attachment mutations hit every attachment of the body. */
function mutate(body: unknown, m: Mutation): unknown {
  const paths = pathsOf(body);
  switch (m.kind) {
    case 'remove':
      return withAt(body, paths[m.at % paths.length], REMOVE);
    case 'replace':
      return withAt(body, paths[m.at % paths.length], m.value);
    case 'retype': {
      const path = paths[m.at % paths.length];
      const current = path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], body);
      return withAt(body, path, retyped(current));
    }
    default: {
      let out = body;
      for (const path of paths.filter((p) => p[p.length - 1] === 'attachment')) {
        const attachment = { ...(path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], out) as Record<string, unknown>) };
        if (m.kind === 'attachmentData') attachment.data = m.data;
        if (m.kind === 'attachmentType') attachment.contentType = m.contentType;
        if (m.kind === 'attachmentBytes') Object.assign(attachment, { data: m.bytes.toString('base64'), contentType: m.contentType });
        out = withAt(out, path, attachment);
      }
      return out;
    }
  }
}

/** JSON text of a body whose RAW placeholders stand for raw (deep) JSON. */
function serialize(body: unknown): string {
  const text = JSON.stringify(body) ?? '';
  return text.replace(/"\\u0000raw:([^"]*)"/g, (_m, raw: string) => raw);
}

const jsonContentType = fc.constantFrom(
  'application/json',
  'application/fhir+json',
  'application/json; charset=utf-8',
  'application/fhir+json;charset=UTF-8',
  'application/json; fhirVersion=4.0',
);

/** A valid body of an endpoint with 1–3 mutations, sent as JSON. */
export const mutatedRequest: fc.Arbitrary<FuzzRequest> = fc
  .tuple(fc.constantFrom(...ENDPOINTS), fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 3 }), jsonContentType)
  .map(([path, which, mutations, contentType]) => {
    const bases = VALID_BODIES[path];
    const body = mutations.reduce(mutate, bases[which % bases.length]);
    return described({
      method: 'POST',
      path,
      label: `mutated ${mutations.map((m) => m.kind).join(', ')}`,
      headers: { 'Content-Type': contentType },
      body: Buffer.from(serialize(body), 'utf8'),
    });
  });

/** Any JSON value as the body of any endpoint. */
export const randomJsonRequest: fc.Arbitrary<FuzzRequest> = fc
  .tuple(fc.constantFrom(...ENDPOINTS), fc.jsonValue({ maxDepth: 6 }), jsonContentType)
  .map(([path, value, contentType]) =>
    described({
      method: 'POST',
      path,
      label: 'random JSON',
      headers: { 'Content-Type': contentType },
      body: Buffer.from(JSON.stringify(value) ?? 'null', 'utf8'),
    }),
  );

/** Request Content-Types, charsets and encodings, valid and not. */
const requestContentType = fc.oneof(
  jsonContentType,
  fc.constantFrom(
    '',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    'application/fhir+xml',
    'application/octet-stream',
    'application/json; charset=utf-16',
    'application/json; charset=utf-16le',
    'application/json; charset=utf-32',
    'application/json; charset=utf-7',
    'application/json; charset=latin1',
    'application/json; charset=utf-nope',
    'application/json; charset=""',
    'application/json;;',
    'application/json; charset',
    'application/*+json',
    'application/merge-patch+json',
    '*/*',
    'json',
  ),
  fc.tuple(jsonContentType, charsetLabels).map(([t, c]) => `${t.split(';')[0]}; charset=${c}`),
  fc.string({ maxLength: 30 }),
);

/** Raw body bytes: garbage, invalid UTF-8, truncated or re-encoded valid JSON. */
const rawBody = fc.oneof(
  fc.uint8Array({ maxLength: 500 }).map((a) => Buffer.from(a)),
  fc.tuple(fc.constantFrom(...ENDPOINTS), fc.nat(), fc.nat()).map(([path, which, cut]) => {
    const text = JSON.stringify(VALID_BODIES[path][which % VALID_BODIES[path].length]);
    return Buffer.from(text.slice(0, cut % text.length), 'utf8');
  }),
  fc
    .tuple(fc.constantFrom(...ENDPOINTS), fc.constantFrom<BufferEncoding>('utf16le', 'latin1', 'utf8'))
    .map(([path, encoding]) => Buffer.from(JSON.stringify(VALID_BODIES[path][0]), encoding)),
  fc.constantFrom(
    Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]),
    Buffer.from('{"hook": "\xff\xfe"}', 'latin1'),
    Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d]),
    Buffer.from('\u0000{}'),
    Buffer.from('{}garbage'),
    Buffer.from('[] []'),
  ),
);

/** Raw bytes with random headers, on any endpoint, sometimes with another method. */
export const rawRequest: fc.Arbitrary<FuzzRequest> = fc
  .record({
    path: fc.constantFrom<string>(...ENDPOINTS, '/fhir/DocumentReference/%24suggest-conditions', '/cds-services/unknown', '/fhir/metadata', '/cds-services'),
    method: fc.oneof(
      { weight: 8, arbitrary: fc.constant('POST' as const) },
      fc.constantFrom('GET' as const, 'PUT' as const, 'DELETE' as const, 'PATCH' as const),
    ),
    contentType: requestContentType,
    encoding: fc.option(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'compress', 'x-unknown', 'gzip, gzip'), { freq: 5 }),
    accept: fc.option(fc.constantFrom('application/fhir+xml', 'text/html', '*/*', 'application/json;q=0', ''), { freq: 5 }),
    body: rawBody,
  })
  .map(({ path, method, contentType, encoding, accept, body }) =>
    described({
      method,
      path,
      label: 'raw bytes',
      headers: {
        ...(contentType ? { 'Content-Type': contentType } : {}),
        ...(encoding ? { 'Content-Encoding': encoding } : {}),
        ...(accept !== null ? { Accept: accept } : {}),
      },
      body,
    }),
  );

/**
 * The property: why this response is unacceptable, or undefined when it is fine.
 * - never 5xx, and only 200 or 4xx;
 * - a 4xx is an OperationOutcome (schema-valid) in the edge's media type;
 * - a 200 is a schema-valid CDS response, FHIR Bundle, or an empty feedback answer.
 */
export function problemWith(req: FuzzRequest, res: FuzzResponse): string | undefined {
  if (res.status >= 500) return `status ${res.status}`;
  if (res.status !== 200 && (res.status < 400 || res.status >= 500)) return `unexpected status ${res.status}`;
  const fhir = req.path.startsWith('/fhir');
  const contentType = String(res.headers['content-type'] ?? '');
  if (res.status === 200 && req.path === FEEDBACK) return res.text === '' ? undefined : 'feedback 200 with a body';
  if (res.status === 200 && req.method !== 'POST') return undefined; // e.g. GET /fhir/metadata, /cds-services
  const expectedType = fhir ? 'application/fhir+json; charset=utf-8' : 'application/json; charset=utf-8';
  if (contentType !== expectedType) return `content-type ${contentType}`;
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    return 'body is not JSON';
  }
  if (res.status >= 400) {
    const outcome = body as { resourceType?: string; issue?: { details?: { text?: string } }[] };
    if (outcome.resourceType !== 'OperationOutcome') return 'error body is not an OperationOutcome';
    const issues = validateResource(body);
    if (issues.length > 0) return `invalid OperationOutcome: ${JSON.stringify(issues)}`;
    if (!outcome.issue?.[0]?.details?.text) return 'OperationOutcome without text';
    return undefined;
  }
  if (fhir) {
    if ((body as { resourceType?: string }).resourceType !== 'Bundle') return '200 is not a Bundle';
    const issues = validateResource(body);
    return issues.length > 0 ? `invalid Bundle: ${JSON.stringify(issues)}` : undefined;
  }
  const messages = validateCds('response', body);
  return messages.length > 0 ? `invalid CDS response: ${messages.join('; ')}` : undefined;
}

/** One answer of the fake EHR FHIR server. */
export interface EhrAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** A redirect target: within the FHIR server, out of its base path, to another host, or garbage. */
const ehrLocation = fc.constantFrom(
  '{base}/Binary/1',
  '{base}/DocumentReference?page=2',
  '/admin/x',
  '{elsewhere}/Binary/1',
  'http://[::1',
  '',
  '//evil.example/x',
);

const ehrDocument = (attachment: Record<string, unknown>) => documentReference(SAMPLE_NOTE, { content: [{ attachment: attachment as never }] });

/** Bodies an EHR might send back: good resources, mutated ones, random JSON, bytes. */
const ehrBody: fc.Arbitrary<Buffer> = fc.oneof(
  fc
    .constantFrom<unknown>(
      searchset(ehrDocument({ contentType: 'text/plain', url: 'Binary/1' })),
      searchset(documentReference(SAMPLE_NOTE)),
      { ...searchset(documentReference(SAMPLE_NOTE)), link: [{ relation: 'next', url: '{base}/DocumentReference?page=2' }] },
      { ...searchset(), link: [{ relation: 'next', url: '{elsewhere}/DocumentReference?page=2' }] },
      { resourceType: 'Binary', contentType: 'text/plain; charset=utf-8', data: base64(SAMPLE_NOTE) },
      { resourceType: 'Binary', contentType: 'text/plain' },
      { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception' }] },
    )
    .chain((value) => fc.array(mutation, { maxLength: 2 }).map((mutations) => mutations.reduce(mutate, value)))
    .map((value) => Buffer.from(serialize(value), 'utf8')),
  fc.jsonValue({ maxDepth: 4 }).map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
  fc.constant(Buffer.from(SAMPLE_NOTE)),
);

/** A short printable form of an EHR answer for the counterexample report. */
function describedAnswer(answer: EhrAnswer): EhrAnswer {
  const body = answer.body.toString('utf8');
  return Object.assign(answer, {
    [fc.toStringMethod]: () => `${answer.status} ${JSON.stringify(answer.headers)} ${JSON.stringify(body.length > 300 ? `${body.slice(0, 300)}…` : body)}`,
  });
}

export const ehrAnswer: fc.Arbitrary<EhrAnswer> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .record({ contentType: fc.constantFrom('application/fhir+json', 'application/json; charset=utf-8', 'text/plain', 'text/html', ''), body: ehrBody })
      .map(({ contentType, body }): EhrAnswer => ({ status: 200, headers: contentType ? { 'Content-Type': contentType } : {}, body })),
  },
  fc
    .record({ status: fc.constantFrom(301, 302, 303, 307, 308), location: ehrLocation })
    .map(({ status, location }): EhrAnswer => ({ status, headers: location ? { Location: location } : {}, body: Buffer.alloc(0) })),
  fc
    .record({ status: fc.constantFrom(204, 400, 401, 403, 404, 410, 429, 500, 502, 503), body: ehrBody })
    .map(({ status, body }): EhrAnswer => ({ status, headers: { 'Content-Type': 'application/fhir+json' }, body: status === 204 ? Buffer.alloc(0) : body })),
);

/** A hook call without (or with partial) prefetch, so the service reads the fake EHR. */
export const ehrHookRequest: fc.Arbitrary<{ prefetch: Record<string, unknown> | undefined; answers: EhrAnswer[] }> = fc.record({
  prefetch: fc.constantFrom<Record<string, unknown> | undefined>(
    undefined,
    { encounterConditions: null },
    { dischargeSummaries: searchset(ehrDocument({ contentType: 'text/plain', url: 'Binary/1' })), encounterConditions: null },
    { dischargeSummaries: { ...searchset(documentReference(SAMPLE_NOTE)), link: [{ relation: 'next', url: '{base}/DocumentReference?page=2' }] } },
    { dischargeSummaries: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'timeout' }] } },
  ),
  answers: fc.array(ehrAnswer.map(describedAnswer), { minLength: 1, maxLength: 4 }),
});
