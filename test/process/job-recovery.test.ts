/**
 * A bulk job survives a `kill -9` of the process working it: two servers (dist/main.js, as
 * `npm start` runs it) on one PostgreSQL database, both ROLE=all. The one working a document
 * is killed mid-document; the other takes that document once its queue lease has run out and
 * finishes the job, and every document is in the output exactly once.
 */
import type { Condition } from '@medplum/fhirtypes';
import { describeWithPostgres, usePostgres } from '../helpers/postgres';
import { documentReference, parametersOf, SAMPLE_NOTE } from '../helpers/resources';
import { spawnServer, type ServerProcess } from '../helpers/server-process';

const DOCUMENTS = 12;
const LEASE_SECONDS = 6;
const OPERATION = '/fhir/DocumentReference/$suggest-conditions';

describeWithPostgres('bulk job recovery after kill -9', () => {
  const cluster = usePostgres();
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.exited));
  });

  test('the other process finishes the job within 60 s of the kill; each document once', async () => {
    const url = await cluster().createDatabase();
    const env = {
      PORT: '0',
      HOST: '127.0.0.1',
      STORE_URL: url,
      STORE_POOL_SIZE: '4',
      AUTH: 'off',
      LOG_LEVEL: 'debug',
      // Every document analysed, none answered from the cache: each takes real time.
      RESULT_CACHE: 'off',
      JOB_LEASE_SECONDS: String(LEASE_SECONDS),
      JOB_POLL_SECONDS: '1',
      ANALYSIS_WORKERS: '1',
    };
    const [a, b] = [spawnServer(env), spawnServer(env)];
    servers.push(a, b);
    const [{ port: portA }, { port: portB }] = await Promise.all([a.logged('listening'), b.logged('listening')]);
    await Promise.all([a.logged('bulk jobs ready'), b.logged('bulk jobs ready')]);

    const docs = Array.from({ length: DOCUMENTS }, (_, i) => documentReference(SAMPLE_NOTE, { id: `doc-${i}` }));
    const kicked = await fetch(`http://127.0.0.1:${String(portA)}${OPERATION}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/fhir+json', Accept: 'application/fhir+json', Prefer: 'respond-async' },
      body: JSON.stringify(parametersOf(...docs)),
    });
    expect(kicked.status).toBe(202);
    const status = new URL(kicked.headers.get('content-location')!);
    const jobId = status.pathname.split('/').at(-1)!;

    // Kill A while it holds a document: after its second document, on starting the next.
    const started = () => a.lines.filter((l) => l.msg === 'bulk job document started' && l.job === jobId);
    const until = Date.now() + 60_000;
    while (started().length < 3 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 5));
    const inHand = started().at(-1)!.index as number;
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await a.exited;
    const finishedByA = new Set(a.lines.filter((l) => l.msg === 'bulk job document' && l.job === jobId).map((l) => l.index));

    // B finishes the job; the document A held comes back to B once its lease runs out.
    const poll = `http://127.0.0.1:${String(portB)}${status.pathname}`;
    let manifest: { output: { url: string; count: number }[]; error: unknown[] } | undefined;
    while (!manifest && Date.now() - killedAt < 60_000) {
      const res = await fetch(poll, { headers: { Accept: 'application/json' } });
      if (res.status === 200) manifest = (await res.json()) as typeof manifest;
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const completedMs = Date.now() - killedAt;
    expect(manifest).toBeDefined();
    expect(completedMs).toBeLessThan(60_000);
    const pickup = b.lines.find((l) => l.msg === 'bulk job document started' && l.job === jobId && l.index === inHand && (l.time as number) >= killedAt);
    if (!finishedByA.has(inHand)) expect(pickup).toBeDefined();
    const pickupMs = pickup ? (pickup.time as number) - killedAt : undefined;
    console.log(`kill -9 → document ${inHand} taken again by the other process after ${pickupMs} ms; job complete after ${completedMs} ms`);

    // Every document once: the same Conditions for each (one note), no document twice or missing.
    expect(manifest!.error).toEqual([]);
    const download = await fetch(manifest!.output[0].url.replace(/^https?:\/\/[^/]+/, `http://127.0.0.1:${String(portB)}`), {
      headers: { Accept: 'application/fhir+ndjson' },
    });
    const conditions = (await download.text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Condition);
    const byDocument = new Map<string, number>();
    for (const c of conditions) {
      const ref = c.evidence![0].detail![0].reference!;
      byDocument.set(ref, (byDocument.get(ref) ?? 0) + 1);
    }
    expect([...byDocument.keys()].sort()).toEqual(docs.map((d) => `DocumentReference/${d.id}`).sort());
    expect(new Set(byDocument.values()).size).toBe(1);
    const rows = await cluster().query<{ n: number }>('SELECT count(*)::int AS n FROM bulk_result WHERE job = $1', [jobId], url);
    expect(rows[0].n).toBe(DOCUMENTS);
    // The queue redelivered the killed worker's document.
    const retried = await cluster().query<{ n: number }>(`SELECT count(*)::int AS n FROM pgboss.job WHERE retry_count > 0`, [], url);
    expect(retried[0].n).toBeGreaterThanOrEqual(1);
  }, 180_000);
});
