/**
 * SIGTERM drain of the compiled server (dist/main.js, built by `pretest`): requests in flight
 * when the signal arrives complete with 200 and the process exits 0; new connections are
 * refused at once; past SHUTDOWN_DRAIN_MS the remaining requests are cut and it exits 1.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { json, startFhirServer, type FakeFhirServer } from '../helpers/fhir-server';
import { documentReference, hookRequest, parametersOf, SAMPLE_NOTE, searchset } from '../helpers/resources';
import { spawnServer, type LogLine } from '../helpers/server-process';

interface Running {
  child: ChildProcessWithoutNullStreams;
  port: number;
  lines: LogLine[];
  exited: Promise<number | null>;
}

/** Starts the server and resolves once it listens. */
// The EHR of these tests is on loopback: local testing, as ALLOW_PRIVATE_FHIR_SERVERS allows.
async function start(env: Record<string, string>): Promise<Running> {
  const server = spawnServer({
    PORT: '0',
    HOST: '127.0.0.1',
    AUTH: 'off',
    ALLOW_PRIVATE_FHIR_SERVERS: 'on',
    STORE_PATH: ':memory:',
    LOG_LEVEL: 'info',
    ...env,
  });
  started.push(server.child);
  const listening = await server.logged('listening');
  return { child: server.child, port: listening.port as number, lines: server.lines, exited: server.exited.then(({ code }) => code) };
}

const auth = { access_token: 'secret-token-123', token_type: 'Bearer', expires_in: 300, scope: 'user/*.read', subject: 'icd10-cds' };
const waitFor = async (condition: () => boolean, ms = 10_000) => {
  for (const until = Date.now() + ms; !condition(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > until) throw new Error('timed out waiting');
  }
};

let ehr: FakeFhirServer | undefined;
const started: ChildProcessWithoutNullStreams[] = [];
afterEach(async () => {
  await ehr?.close();
  ehr = undefined;
  // A failed assertion must not leave a server running (jest would never exit).
  for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

test('SIGTERM with requests in flight (a slow EHR read, a large note): both complete with 200, then exit 0', async () => {
  // The EHR answers the discharge-summary search after 1.5 s: the hook call is in flight for that long.
  ehr = await startFhirServer([
    [
      '/DocumentReference',
      (req, res, base) => {
        setTimeout(() => json(searchset(documentReference(SAMPLE_NOTE)))(req, res, base), 1500);
      },
    ],
    ['/Condition', json(searchset())],
  ]);
  const server = await start({ SHUTDOWN_DRAIN_MS: '20000', FHIR_TIMEOUT_MS: '10000' });
  const url = `http://127.0.0.1:${server.port}`;

  const largeNote = `${SAMPLE_NOTE}\n\n`.repeat(120); // ≈ 145,000 characters
  const fhirCall = fetch(`${url}/fhir/DocumentReference/$suggest-conditions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/fhir+json' },
    body: JSON.stringify(parametersOf(documentReference(largeNote))),
  });
  const hookCall = fetch(`${url}/cds-services/icd10cm-suggestions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(hookRequest({ fhirServer: ehr.base, fhirAuthorization: auth })),
  });
  await waitFor(() => ehr!.requests.some((r) => r.url.startsWith('/fhir/DocumentReference')));
  server.child.kill('SIGTERM');
  await waitFor(() => server.lines.some((l) => l.msg === 'shutting down'));

  // No new connection is accepted once draining...
  await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  // ...but the calls in flight finish normally.
  const [hook, fhir] = await Promise.all([hookCall, fhirCall]);
  expect(hook.status).toBe(200);
  expect(((await hook.json()) as { cards: unknown[] }).cards.length).toBeGreaterThan(0);
  expect(fhir.status).toBe(200);
  expect(((await fhir.json()) as { resourceType: string }).resourceType).toBe('Bundle');

  expect(await server.exited).toBe(0);
  const shutdown = server.lines.find((l) => l.msg === 'shutting down')!;
  expect(shutdown).toMatchObject({ signal: 'SIGTERM', drainMs: 20000 });
  expect(shutdown.inFlight).toBeGreaterThanOrEqual(1);
  expect(server.lines.find((l) => l.msg === 'stopped')).toMatchObject({ finished: true });
}, 60_000);

test('past SHUTDOWN_DRAIN_MS the requests still in flight are cut, and the exit code is 1', async () => {
  ehr = await startFhirServer([['/', () => undefined /* never answers */]]);
  const server = await start({ SHUTDOWN_DRAIN_MS: '500', FHIR_TIMEOUT_MS: '30000' });
  const hookCall = fetch(`http://127.0.0.1:${server.port}/cds-services/icd10cm-suggestions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(hookRequest({ fhirServer: ehr.base, fhirAuthorization: auth })),
  }).then(
    (r) => r.status,
    (error: Error) => error,
  );
  await waitFor(() => ehr!.requests.length > 0);
  const signalled = Date.now();
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(1);
  expect(Date.now() - signalled).toBeLessThan(5000);
  // fetch failed: the socket was closed under the request (realms differ under jest, so no instanceof).
  expect(await hookCall).toMatchObject({ name: 'TypeError', message: 'fetch failed' });
  expect(server.lines.find((l) => l.msg === 'drain deadline passed: requests cut')).toMatchObject({ cut: 1 });
}, 60_000);
