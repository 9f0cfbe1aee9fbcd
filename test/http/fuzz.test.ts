/**
 * Property-based fuzzing of the three POST endpoints with the real app and the tiny model:
 * random JSON, mutated valid requests (fields dropped or replaced, wrong types, long strings,
 * deep nesting, invalid base64, random attachment types, charsets and bytes) and raw bytes
 * under random Content-Type / Content-Encoding headers. Every response must be a 200 that
 * passes the response schema or a 4xx OperationOutcome; never a 5xx, never a crash.
 *
 * `npm test` runs 1,200 requests; `npm run fuzz -- --runs N` runs N (FUZZ_RUNS) and
 * prints the status counts (FUZZ_REPORT). FUZZ_SEED replays a run.
 */
import { writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import fc from 'fast-check';
import request from 'supertest';
import { createTestApp, listenOnLoopback } from '../helpers/app';
import { startFhirServer, type FakeFhirServer } from '../helpers/fhir-server';
import {
  CDS_SERVICE,
  ehrHookRequest,
  FUZZ_LIMITS,
  mutatedRequest,
  problemWith,
  randomJsonRequest,
  rawRequest,
  type EhrAnswer,
  type FuzzRequest,
  type FuzzResponse,
} from '../helpers/fuzz';
import { hookRequest } from '../helpers/resources';

const TOTAL = Number(process.env.FUZZ_RUNS ?? 1200);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
/** Shares of the runs: mutated valid requests find the deep paths, so they get the most. */
const SHARES = { mutated: 0.5, randomJson: 0.1, raw: 0.2, ehr: 0.2 };

let server: Server;
let base: string;
let logs: string[];
/** The fake EHR FHIR server answers in turn; `elsewhere` is another host that must never be called. */
let ehr: FakeFhirServer;
let elsewhere: FakeFhirServer;
let answers: EhrAnswer[] = [];
let answered = 0;
const statuses = new Map<string, number>();
const started = Date.now();

beforeAll(async () => {
  const test = await createTestApp({ ...FUZZ_LIMITS, logLevel: 'warn' });
  logs = test.logs;
  ({ server, base } = await listenOnLoopback(test.app));
  elsewhere = await startFhirServer([]);
  ehr = await startFhirServer([
    [
      '/',
      (_req, res) => {
        const answer = answers[answered++ % answers.length];
        res.writeHead(answer.status, Object.fromEntries(Object.entries(answer.headers).map(([k, v]) => [k, placeholders(v)])));
        res.end(Buffer.from(placeholders(answer.body.toString('latin1')), 'latin1'));
      },
    ],
  ]);
});

/** `{base}` and `{elsewhere}` in EHR answers and prefetch links: the fake servers' URLs. */
const placeholders = (text: string) => text.replaceAll('{base}', ehr.base).replaceAll('{elsewhere}', elsewhere.base);

afterAll(async () => {
  if (process.env.FUZZ_REPORT) {
    const counts = Object.fromEntries([...statuses.entries()].sort());
    const requests = [...statuses.values()].reduce((a, b) => a + b, 0);
    writeFileSync(process.env.FUZZ_REPORT, JSON.stringify({ requests, seconds: (Date.now() - started) / 1000, statuses: counts }, null, 2));
  }
  await new Promise((resolve) => server.close(resolve));
  await ehr.close();
  await elsewhere.close();
});

/** Sends one request with exactly these headers and bytes; the body is read as text. */
async function send(req: FuzzRequest): Promise<FuzzResponse> {
  let test = request(base)[req.method.toLowerCase() as 'post'](req.path);
  for (const [name, value] of Object.entries(req.headers)) test = test.set(name, value);
  // write(), not send(): superagent would JSON-encode a Buffer sent with a JSON Content-Type.
  // Content-Length frames the body for every method (Node sends DELETE bodies unframed).
  if (req.body && req.method !== 'GET') test.set('Content-Length', String(req.body.length)).write(req.body);
  const res = await test.buffer(true).parse((response, done) => {
    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      text += chunk;
    });
    response.on('end', () => done(null, text));
  });
  const key = `${req.method === 'POST' ? '' : `${req.method} `}${req.path.replace('%24', '$')} ${res.status}`;
  statuses.set(key, (statuses.get(key) ?? 0) + 1);
  return { status: res.status, headers: res.headers, text: res.body as string };
}

const property = (arbitrary: fc.Arbitrary<FuzzRequest>) =>
  fc.asyncProperty(arbitrary, async (req) => {
    const res = await send(req);
    const problem = problemWith(req, res);
    if (problem) {
      throw new Error(`→ ${res.status}: ${problem}\n${res.text.slice(0, 500)}`);
    }
  });

const options = <T>(share: number): fc.Parameters<[T]> => ({
  numRuns: Math.max(1, Math.round(TOTAL * share)),
  ...(SEED !== undefined ? { seed: SEED } : {}),
});

// The timeouts scale with the runs (about 10 ms a request on two shared cores).
const timeout = (share: number) => 30_000 + TOTAL * share * 40;

test(
  'mutated valid requests: 200 with a valid response, or a 4xx OperationOutcome',
  async () => {
    await fc.assert(property(mutatedRequest), options(SHARES.mutated));
  },
  timeout(SHARES.mutated),
);

test(
  'random JSON bodies: 4xx OperationOutcome (or a valid 200)',
  async () => {
    await fc.assert(property(randomJsonRequest), options(SHARES.randomJson));
  },
  timeout(SHARES.randomJson),
);

test(
  'raw bytes under random Content-Type, charset and Content-Encoding headers',
  async () => {
    await fc.assert(property(rawRequest), options(SHARES.raw));
  },
  timeout(SHARES.raw),
);

test(
  'a hostile EHR FHIR server (random statuses, redirects, bodies): 200 or 4xx, and no other host is ever called',
  async () => {
    const auth = { access_token: 'fuzz-token', token_type: 'Bearer', expires_in: 300, scope: 'user/*.read', subject: 'icd10-cds' };
    await fc.assert(
      fc.asyncProperty(ehrHookRequest, async (scenario) => {
        answers = scenario.answers;
        answered = 0;
        const body = hookRequest({ fhirServer: ehr.base, fhirAuthorization: auth, ...(scenario.prefetch ? { prefetch: scenario.prefetch } : {}) });
        const req: FuzzRequest = {
          method: 'POST',
          path: CDS_SERVICE,
          label: 'hostile EHR',
          headers: { 'Content-Type': 'application/json' },
          body: Buffer.from(placeholders(JSON.stringify(body))),
        };
        const res = await send(req);
        const problem = problemWith(req, res) ?? (elsewhere.requests.length > 0 ? `another host was called: ${JSON.stringify(elsewhere.requests)}` : undefined);
        if (problem) throw new Error(`→ ${res.status}: ${problem}\n${res.text.slice(0, 500)}`);
      }),
      options(SHARES.ehr),
    );
  },
  timeout(SHARES.ehr),
);

test('after the fuzzing the app still answers, and logged no unexpected error', async () => {
  const res = await request(base).get('/healthz');
  expect(res.status).toBe(200);
  expect(logs.filter((l) => l.includes('"level":50'))).toEqual([]);
});
