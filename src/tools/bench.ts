/**
 * `npm run bench -- [--notes <dir>] [--requests 60] [--model <dir>] [--workers 1] [--threads 0] [--out <file.json>]`
 * `npm run bench -- --bulk 1000 --notes <dir> --workers 2 --threads 1`: documents per second of bulk coding (see `bulk`).
 *
 * End-to-end benchmark of the real server (dist/main.js, AUTH=off, a temporary STORE_PATH,
 * loopback): CDS hook and FHIR operation calls with notes of about 300, 1,400 and 4,000 words.
 * Prints JSON and a markdown table: p50/p95/p99 at concurrency 1, notes/s at concurrency 1, 4
 * and 16, the cached p95, the server's peak RSS, the share of server time per stage (from the
 * Server-Timing header) and end-to-end time over raw inference time for the same notes.
 *
 * Notes: `--notes <dir>` reads *.txt files and the `transcription` column of *.csv(.gz) files
 * (e.g. ../shared/data/mtsamples: never copy them into the repository); longer sizes are
 * made by concatenating notes. Without it, test/fixtures/notes repeated. Every uncached
 * request gets a note of its own (a different start in the pool and a numbered last line), so
 * the result cache never answers them; the cached run repeats one note.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { PROJECT_ROOT } from '../paths';
import { createClassifier } from '../model/classifier';
import { runCommand } from '../cli/command';
import { codeFile, openCodingContext } from '../cli/code';
import { loadConfig } from '../config';
import { createLogger } from '../log';
import { percentile } from './stats';
import { parseCsv } from './read-mtsamples';

const SIZES = [300, 1400, 4000] as const;
const STAGES = ['decode', 'cache', 'tokenize', 'infer', 'evidence', 'serialize'] as const;

function readNotes(dir: string | undefined): { texts: string[]; source: string } {
  if (!dir) {
    const fixtures = path.join(PROJECT_ROOT, 'test', 'fixtures', 'notes');
    return {
      texts: ['discharge-summary.txt', 'context.txt'].map((f) => readFileSync(path.join(fixtures, f), 'utf8')),
      source: 'test/fixtures/notes (synthetic, repeated)',
    };
  }
  const texts: string[] = [];
  for (const file of readdirSync(dir).sort()) {
    const full = path.join(dir, file);
    if (file.endsWith('.txt')) texts.push(readFileSync(full, 'utf8'));
    else if (/\.csv(\.gz)?$/.test(file)) {
      const raw = readFileSync(full);
      const rows = parseCsv((file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8'));
      const column = rows[0]?.indexOf('transcription') ?? -1;
      if (column >= 0) for (const r of rows.slice(1)) if (r[column]?.trim()) texts.push(r[column]);
    }
  }
  if (texts.length === 0) throw new Error(`no notes in ${dir}`);
  return { texts, source: `${dir} (${texts.length} notes)` };
}

/** The i-th note of about `words` words: notes concatenated from a start that depends on i, cut to size, numbered. */
function noteFor(pool: string[], words: number, i: number): string {
  const out: string[] = [];
  for (let k = 0; out.length < words; k++) {
    const w = pool[(i * 7 + k) % pool.length].split(/\s+/).filter(Boolean);
    out.push(...w.slice(0, words - out.length));
  }
  return `${out.join(' ')}\nBenchmark note ${i}.`;
}

const r1 = (x: number) => Number(x.toFixed(1));
const b64 = (t: string) => Buffer.from(t, 'utf8').toString('base64');

function docRef(text: string) {
  return {
    resourceType: 'DocumentReference',
    id: 'ds-1',
    status: 'current',
    type: { coding: [{ system: 'http://loinc.org', code: '18842-5' }] },
    subject: { reference: 'Patient/1' },
    context: { encounter: [{ reference: 'Encounter/2' }] },
    content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: b64(text) } }],
  };
}
const hookBody = (text: string, i: number) =>
  JSON.stringify({
    hook: 'encounter-discharge',
    hookInstance: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    context: { userId: 'Practitioner/1', patientId: '1', encounterId: '2' },
    prefetch: {
      dischargeSummaries: { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: docRef(text) }] },
      encounterConditions: { resourceType: 'Bundle', type: 'searchset' },
    },
  });
const fhirBody = (text: string) => JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'document', resource: docRef(text) }] });

interface Call {
  ms: number;
  stages: Record<string, number>;
  pending: boolean;
}

async function call(base: string, edge: 'hook' | 'fhir', text: string, i: number): Promise<Call> {
  const started = performance.now();
  const res = await fetch(edge === 'hook' ? `${base}/cds-services/icd10cm-suggestions` : `${base}/fhir/DocumentReference/$suggest-conditions`, {
    method: 'POST',
    headers: { 'Content-Type': edge === 'hook' ? 'application/json' : 'application/fhir+json' },
    body: edge === 'hook' ? hookBody(text, i) : fhirBody(text),
  });
  const body = await res.text();
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`${edge} answered ${res.status}`);
  const stages: Record<string, number> = {};
  for (const m of (res.headers.get('server-timing') ?? '').matchAll(/([a-z]+);dur=([\d.]+)/g)) stages[m[1]] = Number(m[2]);
  return { ms, stages, pending: body.includes('suggestions are being prepared') };
}

/** `n` calls at `concurrency`; returns the calls and the wall time. */
async function drive(concurrency: number, n: number, make: (i: number) => Promise<Call>): Promise<{ calls: Call[]; seconds: number }> {
  const calls: Call[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) calls.push(await make(next++));
    }),
  );
  return { calls, seconds: (performance.now() - started) / 1000 };
}

function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'dist', 'main.js')], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const m = /"port":(\d+)[^\n]*"msg":"listening"/.exec(buffer);
      if (m) {
        buffer = '';
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve({ child, base: `http://127.0.0.1:${m[1]}` });
      } else if (buffer.length > 1e6) buffer = buffer.slice(-1e4);
    });
    child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
    child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
}

/**
 * `--bulk N`: N notes of the pool (each made unique by a numbered last line, so the result
 * cache never answers) coded by the path of bulk work: `npm run code`'s codeFile, with the
 * service's default engine in the worker pool, a temporary SQLite store (audit and result
 * cache written as in production). Model loading and a 10-note warm-up are not counted.
 */
async function bulk(n: number, pool: string[], source: string, values: { model?: string; threads?: string; workers?: string }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'icd10-bulk-'));
  const file = (name: string, count: number, offset: number) => {
    const lines = Array.from({ length: count }, (_, i) =>
      JSON.stringify({ id: `bulk-${offset + i}`, text: `${pool[(offset + i) % pool.length]}\nBulk note ${offset + i}.` }),
    );
    writeFileSync(path.join(dir, name), `${lines.join('\n')}\n`);
    return path.join(dir, name);
  };
  const env = {
    MODEL_DIR: values.model!,
    ORT_THREADS: values.threads!,
    ANALYSIS_WORKERS: values.workers!,
    STORE_PATH: path.join(dir, 'bulk.sqlite'),
    LOG_LEVEL: 'warn',
  };
  const config = loadConfig(env);
  const loadBefore = os.loadavg().map(r1);
  const ctx = await openCodingContext(config, createLogger('warn', process.stderr));
  try {
    await codeFile(ctx, { input: file('warm.ndjson', 10, n), output: path.join(dir, 'warm.out.ndjson'), progress: false });
    const summary = await codeFile(ctx, { input: file('bulk.ndjson', n, 0), output: path.join(dir, 'bulk.out.ndjson') });
    const chars = pool.slice(0, Math.min(n, pool.length)).reduce((s, t) => s + t.length, 0) / Math.min(n, pool.length);
    const result = {
      bulk: n,
      engine: ctx.analyzer.info.engine ?? { mode: config.engine },
      model: ctx.analyzer.info.name,
      workers: config.analysisWorkers,
      ortThreads: config.ortThreads,
      notes: source,
      meanCharacters: Math.round(chars),
      coded: summary.coded,
      errors: summary.errors,
      transient: summary.transient,
      seconds: summary.seconds,
      docsPerSecond: Number((summary.coded / summary.seconds).toFixed(1)),
      machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, loadavgBefore: loadBefore, loadavgAtEnd: os.loadavg().map(r1) },
    };
    console.log(JSON.stringify(result, null, 2));
    console.log(
      `\nBulk: ${result.docsPerSecond} documents/s (${n} notes, ${config.analysisWorkers} workers, ORT_THREADS=${config.ortThreads}), load average ${result.machine.loadavgBefore.join(' / ')} before.`,
    );
    return result;
  } finally {
    await ctx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const peakRss = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

async function main() {
  const { values } = parseArgs({
    options: {
      notes: { type: 'string' },
      requests: { type: 'string', default: '60' },
      out: { type: 'string' },
      model: { type: 'string', default: path.join(PROJECT_ROOT, 'models', 'default') },
      threads: { type: 'string', default: '0' },
      workers: { type: 'string', default: '1' },
      bulk: { type: 'string' },
    },
  });
  const n = Number(values.requests);
  const { texts, source } = readNotes(values.notes);
  if (values.bulk !== undefined) {
    const result = await bulk(Number(values.bulk), texts, source, values);
    if (values.out) writeFileSync(values.out, JSON.stringify(result, null, 2));
    return;
  }
  const storeDir = mkdtempSync(path.join(os.tmpdir(), 'icd10-bench-'));
  const { child, base } = await startServer({
    AUTH: 'off',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    MODEL_DIR: values.model!,
    ORT_THREADS: values.threads!,
    ANALYSIS_WORKERS: values.workers!,
    STORE_PATH: path.join(storeDir, 'bench.sqlite'),
    HOOK_TIME_BUDGET_MS: '60000',
  }).catch(async (e) => {
    rmSync(storeDir, { recursive: true, force: true });
    throw e;
  });
  let id = 0;
  const fresh = (words: number) => noteFor(texts, words, id++);
  try {
    // Warm-up (uncounted).
    await drive(1, 10, (i) => call(base, 'hook', fresh(1400), i));
    const latency: Record<string, Record<string, { p50: number; p95: number; p99: number }>> = {};
    const stageTotals: Record<string, number> = {};
    const e2eByNote: { words: number; text: string; ms: number }[] = [];
    for (const words of SIZES) {
      latency[words] = {};
      for (const edge of ['hook', 'fhir'] as const) {
        const texts1: string[] = [];
        const { calls } = await drive(1, words === 4000 ? Math.ceil(n / 2) : n, (i) => {
          const t = fresh(words);
          texts1.push(t);
          return call(base, edge, t, i);
        });
        latency[words][edge] = {
          p50: r1(
            percentile(
              calls.map((c) => c.ms),
              50,
            ),
          ),
          p95: r1(
            percentile(
              calls.map((c) => c.ms),
              95,
            ),
          ),
          p99: r1(
            percentile(
              calls.map((c) => c.ms),
              99,
            ),
          ),
        };
        if (edge === 'hook') calls.forEach((c, i) => e2eByNote.push({ words, text: texts1[i], ms: c.ms }));
        for (const c of calls) for (const [k, v] of Object.entries(c.stages)) stageTotals[k] = (stageTotals[k] ?? 0) + v;
      }
    }
    const throughput: Record<number, number> = {};
    for (const concurrency of [1, 4, 16]) {
      const { calls, seconds } = await drive(concurrency, Math.max(n, concurrency * 8), (i) => call(base, 'hook', fresh(1400), i));
      throughput[concurrency] = r1(calls.length / seconds);
    }
    const repeated = fresh(1400);
    await call(base, 'hook', repeated, 0);
    const cachedCalls = (await drive(1, n, (i) => call(base, 'hook', repeated, i))).calls;
    const cached = {
      p50: r1(
        percentile(
          cachedCalls.map((c) => c.ms),
          50,
        ),
      ),
      p95: r1(
        percentile(
          cachedCalls.map((c) => c.ms),
          95,
        ),
      ),
      allCached: cachedCalls.every((c) => c.stages.infer === undefined || c.stages.infer === 0),
    };
    const rss = peakRss(child.pid!);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));

    // Raw inference for the same notes, in this process, with the server stopped.
    const classifier = await createClassifier(values.model!, { intraOpThreads: Number(values.threads) });
    for (let i = 0; i < 5; i++) await classifier.classify(e2eByNote[0].text);
    const ratio: Record<number, { e2eP50: number; inferP50: number; ratio: number }> = {};
    for (const words of SIZES) {
      const rows = e2eByNote.filter((r) => r.words === words);
      const infer: number[] = [];
      for (const r of rows) infer.push((await classifier.classify(r.text)).timings!.inferMs);
      const e2e = percentile(
        rows.map((r) => r.ms),
        50,
      );
      const raw = percentile(infer, 50);
      ratio[words] = { e2eP50: r1(e2e), inferP50: r1(raw), ratio: Number((e2e / raw).toFixed(2)) };
    }
    await classifier.dispose();
    const totalStage = STAGES.reduce((s, k) => s + (stageTotals[k] ?? 0), 0);
    const share = Object.fromEntries(STAGES.map((k) => [k, Number(((stageTotals[k] ?? 0) / totalStage).toFixed(3))]));
    const result = {
      model: values.model,
      workers: Number(values.workers),
      ortThreads: Number(values.threads),
      notes: source,
      requestsPerCell: n,
      latencyMs: latency,
      throughputNotesPerSecond: throughput,
      cachedMs: cached,
      serverPeakRssMiB: Math.round(rss / 2 ** 20),
      stageShare: share,
      endToEndOverInference: ratio,
      machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, loadavgAtEnd: os.loadavg().map((x) => r1(x)) },
    };
    console.log(JSON.stringify(result, null, 2));
    const table = [
      '| note | hook p50 / p95 / p99 ms (c=1) | FHIR p50 / p95 / p99 ms (c=1) | end-to-end ÷ inference (p50) |',
      '|---|---|---|---|',
      ...SIZES.map(
        (w) =>
          `| ~${w} words | ${latency[w].hook.p50} / ${latency[w].hook.p95} / ${latency[w].hook.p99} | ${latency[w].fhir.p50} / ${latency[w].fhir.p95} / ${latency[w].fhir.p99} | ${ratio[w].e2eP50} ÷ ${ratio[w].inferP50} = ${ratio[w].ratio} |`,
      ),
      '',
      `Throughput (hook, ~1,400 words): ${throughput[1]} notes/s at c=1, ${throughput[4]} at c=4, ${throughput[16]} at c=16. Cached (same note again): p50 ${cached.p50} ms, p95 ${cached.p95} ms. Server peak RSS ${result.serverPeakRssMiB} MiB.`,
      `Server time by stage: ${STAGES.map((k) => `${k} ${(share[k] * 100).toFixed(1)}%`).join(', ')}.`,
    ].join('\n');
    console.log(`\n${table}`);
    if (values.out) writeFileSync(values.out, JSON.stringify(result, null, 2));
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(storeDir, { recursive: true, force: true });
  }
}

runCommand(module, 'bench', main);
