/**
 * A bulk job survives a `kill -9` of any process (dist/main.js, as `npm start` runs it) on one
 * PostgreSQL database: two ROLE=all servers, the one working a document killed mid-document;
 * and the deployment's topology (two ROLE=api replicas and two ROLE=worker processes), the API
 * that took the kick-off and a worker holding a document both killed mid-job. Another process
 * takes the document once its queue lease has run out and finishes the job, and every
 * document is in the output exactly once.
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

  const envOf = (url: string, role: 'all' | 'api' | 'worker') => ({
    PORT: '0',
    HOST: '127.0.0.1',
    STORE_URL: url,
    STORE_POOL_SIZE: '4',
    AUTH: 'off',
    LOG_LEVEL: 'debug',
    ROLE: role,
    // Every document analysed, none answered from the cache: each takes real time.
    RESULT_CACHE: 'off',
    JOB_LEASE_SECONDS: String(LEASE_SECONDS),
    JOB_POLL_SECONDS: '1',
    ANALYSIS_WORKERS: '1',
  });
  const start = async (env: Record<string, string>) => {
    const server = spawnServer(env);
    servers.push(server);
    const { port } = await server.logged('listening');
    await server.logged('bulk jobs ready');
    return { server, port: port as number };
  };

  /** Kicks a job off at `portIn`; kills `victim` while it holds its third document (and `alsoKill` then); polls `portOut` for the manifest; checks every document once. */
  async function survives(url: string, portIn: number, victim: ServerProcess, portOut: number, others: ServerProcess[], alsoKill?: ServerProcess) {
    const docs = Array.from({ length: DOCUMENTS }, (_, i) => documentReference(SAMPLE_NOTE, { id: `doc-${i}` }));
    const kicked = await fetch(`http://127.0.0.1:${String(portIn)}${OPERATION}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/fhir+json', Accept: 'application/fhir+json', Prefer: 'respond-async' },
      body: JSON.stringify(parametersOf(...docs)),
    });
    expect(kicked.status).toBe(202);
    const status = new URL(kicked.headers.get('content-location')!);
    const jobId = status.pathname.split('/').at(-1)!;

    // Kill the victim while it holds a document: one it started after finishing another.
    const started = () => victim.lines.filter((l) => l.msg === 'bulk job document started' && l.job === jobId);
    const finished = () => new Set(victim.lines.filter((l) => l.msg === 'bulk job document' && l.job === jobId).map((l) => l.index));
    const holding = () => started().length >= 2 && !finished().has(started().at(-1)!.index);
    const until = Date.now() + 60_000;
    while (!holding() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 2));
    expect(holding()).toBe(true);
    const inHand = started().at(-1)!.index as number;
    victim.child.kill('SIGKILL');
    alsoKill?.child.kill('SIGKILL');
    const killedAt = Date.now();
    await victim.exited;
    await alsoKill?.exited;
    const finishedByVictim = finished();

    // Another process finishes the job; the document the victim held comes back once its lease runs out.
    const poll = `http://127.0.0.1:${String(portOut)}${status.pathname}`;
    let manifest: { output: { url: string; count: number }[]; error: unknown[] } | undefined;
    while (!manifest && Date.now() - killedAt < 60_000) {
      const res = await fetch(poll, { headers: { Accept: 'application/json' } });
      if (res.status === 200) manifest = (await res.json()) as typeof manifest;
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const completedMs = Date.now() - killedAt;
    expect(manifest).toBeDefined();
    expect(completedMs).toBeLessThan(60_000);
    const pickup = others
      .flatMap((o) => o.lines)
      .find((l) => l.msg === 'bulk job document started' && l.job === jobId && l.index === inHand && (l.time as number) >= killedAt);
    if (!finishedByVictim.has(inHand)) expect(pickup).toBeDefined();
    const pickupMs = pickup ? (pickup.time as number) - killedAt : undefined;
    console.log(`kill -9 → document ${inHand} taken again by another process after ${pickupMs} ms; job complete after ${completedMs} ms`);

    // Every document once: the same Conditions for each (one note), no document twice or missing.
    expect(manifest!.error).toEqual([]);
    const download = await fetch(manifest!.output[0].url.replace(/^https?:\/\/[^/]+/, `http://127.0.0.1:${String(portOut)}`), {
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
  }

  test('two ROLE=all servers: the other finishes the job within 60 s of the kill; each document once', async () => {
    const url = await cluster().createDatabase();
    const [a, b] = await Promise.all([start(envOf(url, 'all')), start(envOf(url, 'all'))]);
    await survives(url, a.port, a.server, b.port, [b.server]);
  }, 180_000);

  test('two API replicas and two workers: the API that took the kick-off and a worker holding a document killed; the job finishes, each document once', async () => {
    const url = await cluster().createDatabase();
    const [api1, api2, w1, w2] = await Promise.all([
      start(envOf(url, 'api')),
      start(envOf(url, 'api')),
      start(envOf(url, 'worker')),
      start(envOf(url, 'worker')),
    ]);
    await survives(url, api1.port, w1.server, api2.port, [w2.server], api1.server);
    // The API replicas work no documents.
    for (const api of [api1, api2]) expect(api.server.lines.some((l) => l.msg === 'bulk job document started')).toBe(false);
  }, 240_000);
});
