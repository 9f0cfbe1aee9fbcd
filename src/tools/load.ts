/**
 * `npm run load -- [--seconds 60] [--connections 16] [--model <dir>] [--max-rss-growth-mb 64] [--out <file>]
 *   [--replicas 1] [--store-url postgres://…]`
 *
 * Load test of the compiled server as `npm start` runs it: starts dist/main.js on loopback
 * (port 0, AUTH=off, a throw-away SQLite store, or the PostgreSQL database of `--store-url`
 * as STORE_URL), drives it with autocannon for `--seconds` at `--connections` concurrent
 * connections, alternating the CDS Hooks service and
 * $suggest-conditions, each request with a different realistic note (sections of the fixture
 * notes in a random order and number, random vitals and dates: nothing can be cached), and
 * samples the server's RSS from /proc every second. Prints JSON: requests, errors, non-2xx by
 * status, latency percentiles, throughput, RSS over time. Then stops the server with SIGTERM.
 *
 * `--replicas N` (needs `--store-url`: replicas share one database) starts N servers on the
 * same STORE_URL and splits the connections evenly between them, one autocannon per replica
 * (a load balancer's round robin); figures are over all of them, RSS per replica.
 *
 * Exits 1 when any request failed or was not 2xx, when the server logged an error or did not
 * stop cleanly, or when RSS grew more than `--max-rss-growth-mb` between the end of the
 * warm-up (the first fifth of the run) and the end. Always bounded in time: start-up 60 s,
 * run `--seconds` (+ the 10 s request timeout), stop 30 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { PROJECT_ROOT } from '../paths';
import { runCommand } from '../cli/command';
import { seededRandom } from './random';
import { percentile } from './stats';

const FIXTURES = path.join(PROJECT_ROOT, 'test', 'fixtures');
const MAIN = path.join(PROJECT_ROOT, 'dist', 'main.js');

/** Wait between the end of the load and SIGTERM (ms). */
const SETTLE_MS = 2000;

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Paragraphs of the fixture notes (blank-line separated), the material notes are made of. */
function noteSections(): { heading: string[]; body: string[] } {
  const texts = ['discharge-summary.txt', 'context.txt'].map((f) => readFileSync(path.join(FIXTURES, 'notes', f), 'utf8'));
  const sections = texts
    .flatMap((t) => t.split(/\n\s*\n/))
    .map((s) => s.trim())
    .filter(Boolean);
  return { heading: sections.filter((s) => s === 'DISCHARGE SUMMARY'), body: sections.filter((s) => s !== 'DISCHARGE SUMMARY') };
}

/** A note of 5–25 sections in random order with random vitals and dates: about 1–8 KB. */
export function randomNote(random: () => number = Math.random): string {
  const { body } = noteSections();
  const pick = () => body[Math.floor(random() * body.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const day = `2026-${String(int(1, 12)).padStart(2, '0')}-${String(int(1, 28)).padStart(2, '0')}`;
  const parts = [
    'DISCHARGE SUMMARY',
    `Patient: [synthetic example, no real patient] MRN ${int(100000, 999999)}\nDischarge date: ${day}`,
    `VITAL SIGNS\nTemperature ${int(360, 395) / 10} °C, heart rate ${int(55, 125)}/min, blood pressure ${int(95, 185)}/${int(50, 105)} mmHg, SpO2 ${int(86, 100)}% on room air.`,
  ];
  for (let i = int(5, 25); i > 0; i--) parts.push(pick());
  return parts.join('\n\n');
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** Request bodies from the README's request fixtures, with a fresh note each time. */
function requestBuilders(random: () => number) {
  const cds = JSON.parse(readFileSync(path.join(FIXTURES, 'requests', 'encounter-discharge.json'), 'utf8'));
  const fhir = JSON.parse(readFileSync(path.join(FIXTURES, 'requests', 'suggest-conditions.json'), 'utf8'));
  const html = readFileSync(path.join(FIXTURES, 'notes', 'discharge-summary.html'), 'utf8');
  return {
    cds(): string {
      const body = structuredClone(cds);
      body.hookInstance = `${Math.floor(random() * 1e12)}-${Date.now()}`;
      body.prefetch.dischargeSummaries.entry[0].resource.content[0].attachment.data = b64(randomNote(random));
      return JSON.stringify(body);
    },
    fhir(): string {
      const body = structuredClone(fhir);
      const doc = body.parameter.find((p: { name: string }) => p.name === 'document').resource;
      // One in four as HTML (the markup path), the others plain text.
      doc.content[0].attachment =
        random() < 0.25
          ? {
              contentType: 'text/html; charset=utf-8',
              data: b64(
                html.replace('</body>', `<p>${randomNote(random).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/\n\n/g, '</p><p>')}</p></body>`),
              ),
            }
          : { contentType: 'text/plain; charset=utf-8', data: b64(randomNote(random)) };
      return JSON.stringify(body);
    },
  };
}

/** VmRSS of a process in MB, from /proc (Linux). */
function rssMb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

interface Server {
  child: ChildProcess;
  port: number;
  /** Log lines at level error or fatal. */
  errors: string[];
  exited: Promise<number | null>;
}

/**
 * Starts dist/main.js and resolves once it listens (at most 60 s).
 * @param store - the SQLite file, or the PostgreSQL URL (STORE_URL)
 */
function startServer(modelDir: string, store: { path: string } | { url: string }): Promise<Server> {
  const child = spawn(process.execPath, [MAIN], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      AUTH: 'off', // loopback only; the load is the service's work, not token checks
      MODEL_DIR: modelDir,
      ...('url' in store ? { STORE_URL: store.url } : { STORE_PATH: store.path }),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const errors: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the server did not listen within 60 s'));
    }, 60_000);
    let buffer = '';
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        let entry: { level?: number; msg?: string; port?: number };
        try {
          entry = JSON.parse(line);
        } catch {
          continue;
        }
        if ((entry.level ?? 0) >= 50) errors.push(line);
        if (entry.msg === 'listening') {
          clearTimeout(timer);
          resolve({ child, port: entry.port!, errors, exited });
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code} before listening: ${stderr.trim()}`));
    });
  });
}

/** A logged error as `msg: err.message` (log lines carry no note text). */
function errorSummary(line: string): string {
  const { msg, err } = JSON.parse(line) as { msg?: string; err?: { message?: string } };
  return err?.message ? `${msg}: ${err.message}` : String(msg);
}

/** Hides the password of a STORE_URL for the report. */
const withoutPassword = (url: string) => url.replace(/^(postgres(?:ql)?:\/\/[^:@/]*):[^@]*@/i, '$1@');

/**
 * Drives one server with autocannon for `seconds` at `connections`, collecting every latency.
 * @param build - request body builders
 */
function drive(port: number, connections: number, seconds: number, build: ReturnType<typeof requestBuilders>, latencies: number[]): Promise<autocannon.Result> {
  return new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections,
        duration: seconds,
        timeout: 10,
        // autocannon cycles through these per connection: the two edges alternate.
        requests: [
          {
            method: 'POST',
            path: '/cds-services/icd10cm-suggestions',
            setupRequest: (req) => ({ ...req, headers: { 'content-type': 'application/json' }, body: build.cds() }),
          },
          {
            method: 'POST',
            path: '/fhir/DocumentReference/$suggest-conditions',
            setupRequest: (req) => ({ ...req, headers: { 'content-type': 'application/fhir+json' }, body: build.fhir() }),
          },
        ],
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
  });
}

async function main() {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '60' },
      connections: { type: 'string', default: '16' },
      model: { type: 'string', default: path.join(PROJECT_ROOT, 'models', 'default') },
      'max-rss-growth-mb': { type: 'string', default: '64' },
      out: { type: 'string' },
      replicas: { type: 'string', default: '1' },
      'store-url': { type: 'string' },
    },
  });
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const maxGrowth = Number(values['max-rss-growth-mb']);
  const replicas = Number(values.replicas);
  const storeUrl = values['store-url'];
  if (!(seconds > 0 && seconds <= 3600) || !(connections >= 1 && connections <= 1024) || !(maxGrowth >= 0)) {
    throw new Error('--seconds must be in (0, 3600], --connections in [1, 1024], --max-rss-growth-mb ≥ 0');
  }
  if (!(Number.isInteger(replicas) && replicas >= 1 && replicas <= connections) || (replicas > 1 && !storeUrl)) {
    throw new Error('--replicas must be an integer in [1, --connections], and more than one needs --store-url (replicas share one database)');
  }

  const storeDir = mkdtempSync(path.join(os.tmpdir(), 'icd10-cds-load-'));
  const store = storeUrl ? { url: storeUrl } : { path: path.join(storeDir, 'load.sqlite') };
  // One after the other: the first migrates a new database, the others find it done.
  const servers: Server[] = [];
  for (let i = 0; i < replicas; i++) servers.push(await startServer(path.resolve(values.model!), store));
  const started = Date.now();
  const rss = servers.map(() => [] as { s: number; mb: number }[]);
  const sample = () =>
    servers.forEach((server, i) => {
      const mb = rssMb(server.child.pid!);
      if (mb !== undefined) rss[i].push({ s: round((Date.now() - started) / 1000), mb: round(mb) });
    });
  sample();
  const sampler = setInterval(sample, 1000);

  // A seeded generator: the same notes in the same order for the same run length.
  const build = requestBuilders(seededRandom(42));
  const latencies: number[] = [];
  // The connections split evenly (the first replicas take the remainder), as a round robin would.
  const results = await Promise.all(
    servers.map((server, i) => drive(server.port, Math.floor(connections / replicas) + (i < connections % replicas ? 1 : 0), seconds, build, latencies)),
  );
  clearInterval(sampler);
  sample();
  // autocannon abandons the requests it has in flight when the time is up, and the drain does
  // not wait for a request whose client has gone (http/drain.ts): let them finish first, so a
  // stop does not close the analyzer under them.
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

  const exitCodes: (number | null)[] = [];
  for (const server of servers) {
    server.child.kill('SIGTERM');
    const stopTimer = setTimeout(() => server.child.kill('SIGKILL'), 30_000);
    exitCodes.push(await server.exited);
    clearTimeout(stopTimer);
  }
  rmSync(storeDir, { recursive: true, force: true });

  latencies.sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  for (const result of results) {
    for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = (statuses[code] ?? 0) + (stat as { count: number }).count;
  }
  const non2xx = Object.fromEntries(Object.entries(statuses).filter(([code]) => !code.startsWith('2')));
  const sum = (f: (r: autocannon.Result) => number) => results.reduce((n, r) => n + f(r), 0);
  const memory = rss.map((samples) => {
    const warmupEnd = samples.find((r) => r.s >= seconds / 5) ?? samples[0];
    const last = samples[samples.length - 1];
    return {
      start: samples[0].mb,
      afterWarmup: warmupEnd.mb,
      max: Math.max(...samples.map((r) => r.mb)),
      last: last.mb,
      growthAfterWarmup: round(last.mb - warmupEnd.mb),
      bound: maxGrowth,
      samples,
    };
  });
  const errorsLogged = servers.reduce((n, s) => n + s.errors.length, 0);
  const errors = sum((r) => r.errors);
  const timeouts = sum((r) => r.timeouts);
  const report = {
    command: `npm run load -- --seconds ${seconds} --connections ${connections}${replicas > 1 ? ` --replicas ${replicas}` : ''}${storeUrl ? ` --store-url ${withoutPassword(storeUrl)}` : ''}`,
    model: path.relative(PROJECT_ROOT, path.resolve(values.model!)) || values.model,
    store: storeUrl ? 'postgresql' : 'sqlite',
    replicas,
    cpus: os.cpus().length,
    loadAverage: os.loadavg().map((x) => round(x, 2)),
    seconds: round(Math.max(...results.map((r) => r.duration)), 2),
    connections,
    requests: sum((r) => r.requests.total),
    requestsPerReplica: results.map((r) => r.requests.total),
    errors,
    timeouts,
    statuses,
    non2xx,
    latencyMs: {
      p50: round(percentile(latencies, 50)),
      p95: round(percentile(latencies, 95)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies[latencies.length - 1] ?? 0),
      mean: round(latencies.reduce((n, x) => n + x, 0) / Math.max(1, latencies.length)),
    },
    throughput: { requestsPerSecond: round(sum((r) => r.requests.average)), kBPerSecond: round(sum((r) => r.throughput.average) / 1024) },
    // One entry per replica (a single object when there is one, as before).
    rssMb: replicas === 1 ? memory[0] : memory,
    // What the errors were: each distinct message with its error's message (never content).
    server: {
      errorsLogged,
      errorMessages: [...new Set(servers.flatMap((s) => s.errors.map(errorSummary)))],
      exitCode: replicas === 1 ? exitCodes[0] : exitCodes,
    },
  };
  const json = JSON.stringify(report, null, 2);
  if (values.out) writeFileSync(values.out, `${json}\n`);
  console.log(json);

  const grown = memory.filter((m) => m.growthAfterWarmup > maxGrowth).map((m) => m.growthAfterWarmup);
  const failures = [
    errors > 0 && `${errors} connection errors`,
    timeouts > 0 && `${timeouts} timeouts`,
    Object.keys(non2xx).length > 0 && `non-2xx responses ${JSON.stringify(non2xx)}`,
    grown.length > 0 && `RSS grew ${grown.join(', ')} MB after the warm-up (bound ${maxGrowth} MB)`,
    errorsLogged > 0 && `the servers logged ${errorsLogged} errors`,
    exitCodes.some((c) => c !== 0) && `a server exited with ${exitCodes.join(', ')} on SIGTERM`,
  ].filter(Boolean);
  if (failures.length > 0) {
    console.error(`load test failed: ${failures.join('; ')}`);
    process.exit(1);
  }
}

runCommand(module, 'load test', main);
