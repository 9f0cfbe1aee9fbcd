/**
 * `npm run load -- [--seconds 60] [--connections 16] [--model <dir>] [--max-rss-growth-mb 64] [--out <file>]`
 *
 * Load test of the compiled server as `npm start` runs it: starts dist/main.js on loopback
 * (port 0, AUTH=off, a throw-away audit store), drives it with autocannon for `--seconds` at
 * `--connections` concurrent connections, alternating the CDS Hooks service and
 * $suggest-conditions, each request with a different realistic note (sections of the fixture
 * notes in a random order and number, random vitals and dates: nothing can be cached), and
 * samples the server's RSS from /proc every second. Prints JSON: requests, errors, non-2xx by
 * status, latency percentiles, throughput, RSS over time. Then stops the server with SIGTERM.
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

/** Starts dist/main.js and resolves once it listens (at most 60 s). */
function startServer(modelDir: string, storeDir: string): Promise<Server> {
  const child = spawn(process.execPath, [MAIN], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      AUTH: 'off', // loopback only; the load is the service's work, not token checks
      MODEL_DIR: modelDir,
      STORE_PATH: path.join(storeDir, 'load.sqlite'),
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

async function main() {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '60' },
      connections: { type: 'string', default: '16' },
      model: { type: 'string', default: path.join(PROJECT_ROOT, 'models', 'default') },
      'max-rss-growth-mb': { type: 'string', default: '64' },
      out: { type: 'string' },
    },
  });
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const maxGrowth = Number(values['max-rss-growth-mb']);
  if (!(seconds > 0 && seconds <= 3600) || !(connections >= 1 && connections <= 1024) || !(maxGrowth >= 0)) {
    throw new Error('--seconds must be in (0, 3600], --connections in [1, 1024], --max-rss-growth-mb ≥ 0');
  }

  const storeDir = mkdtempSync(path.join(os.tmpdir(), 'icd10-cds-load-'));
  const server = await startServer(path.resolve(values.model!), storeDir);
  const pid = server.child.pid!;
  const started = Date.now();
  const rss: { s: number; mb: number }[] = [];
  const sample = () => {
    const mb = rssMb(pid);
    if (mb !== undefined) rss.push({ s: round((Date.now() - started) / 1000), mb: round(mb) });
  };
  sample();
  const sampler = setInterval(sample, 1000);

  // A seeded generator: the same notes in the same order for the same run length.
  const random = seededRandom(42);
  const build = requestBuilders(random);
  const latencies: number[] = [];
  const base = `http://127.0.0.1:${server.port}`;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: base,
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
  clearInterval(sampler);
  sample();

  server.child.kill('SIGTERM');
  const stopTimer = setTimeout(() => server.child.kill('SIGKILL'), 30_000);
  const exitCode = await server.exited;
  clearTimeout(stopTimer);
  rmSync(storeDir, { recursive: true, force: true });

  latencies.sort((a, b) => a - b);
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, (s as { count: number }).count]));
  const non2xx = Object.fromEntries(Object.entries(statuses).filter(([code]) => !code.startsWith('2')));
  const warmupEnd = rss.find((r) => r.s >= seconds / 5) ?? rss[0];
  const last = rss[rss.length - 1];
  const growth = round(last.mb - warmupEnd.mb);
  const report = {
    command: `npm run load -- --seconds ${seconds} --connections ${connections}`,
    model: path.relative(PROJECT_ROOT, path.resolve(values.model!)) || values.model,
    cpus: os.cpus().length,
    seconds: round(result.duration, 2),
    connections,
    requests: result.requests.total,
    errors: result.errors,
    timeouts: result.timeouts,
    statuses,
    non2xx,
    latencyMs: {
      p50: round(percentile(latencies, 50)),
      p95: round(percentile(latencies, 95)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies[latencies.length - 1] ?? 0),
      mean: round(result.latency.mean),
    },
    throughput: { requestsPerSecond: round(result.requests.average), kBPerSecond: round(result.throughput.average / 1024) },
    rssMb: {
      start: rss[0].mb,
      afterWarmup: warmupEnd.mb,
      max: Math.max(...rss.map((r) => r.mb)),
      last: last.mb,
      growthAfterWarmup: growth,
      bound: maxGrowth,
      samples: rss,
    },
    server: { errorsLogged: server.errors.length, exitCode },
  };
  const json = JSON.stringify(report, null, 2);
  if (values.out) writeFileSync(values.out, `${json}\n`);
  console.log(json);

  const failures = [
    result.errors > 0 && `${result.errors} connection errors`,
    result.timeouts > 0 && `${result.timeouts} timeouts`,
    Object.keys(non2xx).length > 0 && `non-2xx responses ${JSON.stringify(non2xx)}`,
    growth > maxGrowth && `RSS grew ${growth} MB after the warm-up (bound ${maxGrowth} MB)`,
    server.errors.length > 0 && `the server logged ${server.errors.length} errors`,
    exitCode !== 0 && `the server exited with ${exitCode} on SIGTERM`,
  ].filter(Boolean);
  if (failures.length > 0) {
    console.error(`load test failed: ${failures.join('; ')}`);
    process.exit(1);
  }
}

runCommand(module, 'load test', main);
