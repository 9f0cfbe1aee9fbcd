/**
 * `npm run bench:job -- --notes ../shared/data/mtsamples --store-url postgres://… [--documents 1000]
 *   [--replicas 2] [--workers 1] [--concurrency 1]`
 *
 * One bulk job end to end, as the deployment runs it: `--replicas` servers with `ROLE=api` and
 * `--workers` with `ROLE=worker` and `JOB_CONCURRENCY=--concurrency` (dist/main.js, loopback, AUTH=off) on one PostgreSQL database
 * (a new one: the tool does not clear it). The job — `--documents` MTSamples notes (each a
 * DocumentReference of its own, ids `n-1`…) as NDJSON — is kicked off at the first replica,
 * polled at the last, and its Condition and error files downloaded from the first. Prints JSON:
 * documents per second from kick-off to manifest, documents with Conditions and with errors,
 * and the check that every document id appears in the outputs at most once and every document
 * in at most one of them. Exits 1 when the check fails, the job does not complete within 30
 * minutes, or a server logged an error.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runCommand, UsageError } from '../cli/command';
import { PROJECT_ROOT } from '../paths';
import { mtsamplesDischargeSummaries } from './read-mtsamples';

const MAIN = path.join(PROJECT_ROOT, 'dist', 'main.js');
const USAGE = 'usage: npm run bench:job -- --notes <MTSamples dir> --store-url postgres://… [--documents 1000] [--replicas 2] [--workers 1] [--concurrency 1]';

interface Server {
  child: ChildProcess;
  port: number;
  errors: string[];
  exited: Promise<number | null>;
}

/** Starts dist/main.js in `role` and resolves once it listens. */
function startServer(role: 'api' | 'worker', storeUrl: string, concurrency: number): Promise<Server> {
  const child = spawn(process.execPath, [MAIN], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      AUTH: 'off',
      STORE_URL: storeUrl,
      ROLE: role,
      JOB_CONCURRENCY: String(concurrency),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const errors: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`a ${role} server did not listen within 90 s`));
    }, 90_000);
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        let entry: { level?: number; msg?: string; port?: number; err?: { message?: string } };
        try {
          entry = JSON.parse(line);
        } catch {
          continue;
        }
        // Log lines carry no note text: the message and the error's message are enough.
        if ((entry.level ?? 0) >= 50) errors.push(`${entry.msg}: ${entry.err?.message ?? ''}`);
        if (entry.msg === 'listening') {
          clearTimeout(timer);
          resolve({ child, port: entry.port!, errors, exited });
        }
      }
    });
    child.stderr!.resume();
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`a ${role} server exited with ${code} before listening`));
    });
  });
}

/** A DocumentReference of one note, as an EHR would send it. */
function documentOf(text: string, n: number): object {
  return {
    resourceType: 'DocumentReference',
    id: `n-${n}`,
    status: 'current',
    type: { coding: [{ system: 'http://loinc.org', code: '18842-5', display: 'Discharge summary' }] },
    subject: { reference: `Patient/p-${n}` },
    content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: Buffer.from(text, 'utf8').toString('base64') } }],
  };
}

/** The DocumentReference ids an NDJSON file's resources name (a Condition's evidence, an error's expression). */
function documentIdsOf(ndjson: string, pattern: RegExp): string[] {
  return ndjson
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => [...new Set([...l.matchAll(pattern)].map((m) => m[1]))]);
}

runCommand(module, 'bench:job', async () => {
  const { values } = parseArgs({
    options: {
      notes: { type: 'string' },
      'store-url': { type: 'string' },
      documents: { type: 'string', default: '1000' },
      replicas: { type: 'string', default: '2' },
      workers: { type: 'string', default: '1' },
      concurrency: { type: 'string', default: '1' },
    },
  });
  const documents = Number(values.documents);
  const replicas = Number(values.replicas);
  const workers = Number(values.workers);
  const concurrency = Number(values.concurrency);
  const storeUrl = values['store-url'];
  if (!values.notes || !storeUrl || ![documents, replicas, workers, concurrency].every((x) => Number.isInteger(x) && x >= 1)) throw new UsageError(USAGE);

  // Notes of their own: the pool repeated, each copy numbered, so the result cache answers none.
  const pool = mtsamplesDischargeSummaries(values.notes);
  const texts = Array.from({ length: documents }, (_, i) => `${pool[i % pool.length]}\nDocument ${i + 1}.`);
  const body = texts.map((t, i) => JSON.stringify(documentOf(t, i + 1))).join('\n');

  const servers: Server[] = [];
  // One after the other: the first migrates the database.
  for (let i = 0; i < replicas; i++) servers.push(await startServer('api', storeUrl, concurrency));
  for (let i = 0; i < workers; i++) servers.push(await startServer('worker', storeUrl, concurrency));
  const api = servers.slice(0, replicas);
  const base = (s: Server) => `http://127.0.0.1:${s.port}`;
  try {
    const started = performance.now();
    const kicked = await fetch(`${base(api[0])}/fhir/DocumentReference/$suggest-conditions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/fhir+ndjson', Prefer: 'respond-async', Accept: 'application/fhir+json' },
      body,
    });
    if (kicked.status !== 202) throw new Error(`kick-off answered ${kicked.status}`);
    const status = new URL(kicked.headers.get('content-location')!).pathname;
    let manifest: { output: { url: string; count?: number }[]; error: { url: string }[] } | undefined;
    const until = Date.now() + 30 * 60_000;
    while (!manifest) {
      if (Date.now() > until) throw new Error('the job did not complete within 30 minutes');
      const res = await fetch(`${base(api[api.length - 1])}${status}`, { headers: { Accept: 'application/json' } });
      if (res.status === 200) manifest = (await res.json()) as typeof manifest;
      else if (res.status !== 202) throw new Error(`status answered ${res.status}`);
      else await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const seconds = (performance.now() - started) / 1000;
    const download = async (url: string) => (await fetch(`${base(api[0])}${new URL(url).pathname}`, { headers: { Accept: 'application/fhir+ndjson' } })).text();
    const conditions = (await Promise.all(manifest!.output.map((o) => download(o.url)))).join('\n');
    const errors = (await Promise.all(manifest!.error.map((o) => download(o.url)))).join('\n');
    const coded = documentIdsOf(conditions, /DocumentReference\/(n-\d+)/g);
    const failed = documentIdsOf(errors, /DocumentReference\/(n-\d+)/g);
    // A document's Conditions come from one result: its id on lines of one contiguous block.
    const blocks = conditions
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => /DocumentReference\/(n-\d+)/.exec(l)?.[1]);
    const runs = blocks.filter((id, i) => id !== blocks[i - 1]);
    const duplicated = runs.length - new Set(runs).size;
    const withConditions = new Set(coded);
    const inBoth = failed.filter((id) => withConditions.has(id));
    const exitCodes: (number | null)[] = [];
    for (const s of servers) s.child.kill('SIGTERM');
    for (const s of servers) exitCodes.push(await s.exited);
    const serverErrors = servers.flatMap((s) => s.errors);
    const ok = duplicated === 0 && inBoth.length === 0 && serverErrors.length === 0 && withConditions.size + failed.length <= documents;
    if (!ok) process.exitCode = 1;
    return {
      command: `npm run bench:job -- --notes … --store-url postgres://… --documents ${documents} --replicas ${replicas} --workers ${workers} --concurrency ${concurrency}`,
      documents,
      replicas,
      workers,
      concurrency,
      seconds: Math.round(seconds * 10) / 10,
      documentsPerSecond: Math.round((documents / seconds) * 10) / 10,
      withConditions: withConditions.size,
      withoutConditions: documents - withConditions.size - failed.length,
      errors: failed.length,
      conditions: blocks.length,
      duplicatedDocuments: duplicated,
      serverErrors,
      exitCodes,
      machine: { cpus: os.cpus().length, loadavgAtEnd: os.loadavg().map((x) => Math.round(x * 10) / 10) },
    };
  } finally {
    for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  }
});
