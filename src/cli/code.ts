/**
 * `npm run code -- --in notes.ndjson --out suggestions.ndjson [--concurrency N]`: codes a file of
 * documents with the service's own coding (fhir/suggest-conditions.ts `suggestConditions`, the
 * function behind `$suggest-conditions`: codeEncounter, the same engine in the same worker pool
 * (ANALYSIS_WORKERS), the same audit trail and result cache in the configured store).
 *
 * Input, one JSON value a line: a FHIR DocumentReference (inline base64 attachment), a
 * Parameters as the operation takes it, or `{"id": "...", "text": "...", "patient": "Patient/1"}`
 * (`patient` optional). Output, one record a line, in the order documents finish:
 * `{"id", "line", "bundle"}` (the operation's Bundle of suggested Conditions) or
 * `{"id", "line", "error"}` (an OperationOutcome: a bad line is a record, not a crash). `id` is
 * the document's id, else `line:<n>`.
 *
 * Resumable: records already in the output are skipped by id; a torn last line (the process
 * was killed while writing it) is cut off first. Each record is one write of one line to a file
 * opened for appending. A document whose coding cannot be done now (503: queue, worker, store)
 * gets no record: the summary counts it as `transient`, the exit status is 1, and a rerun codes it.
 * SIGINT or SIGTERM stops it after the documents in flight (exit 130). Progress on stderr; the
 * summary as JSON on stdout. Never logs or prints note text.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, createReadStream, existsSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { DocumentReference, OperationOutcome } from '@medplum/fhirtypes';
import { createWorkerAnalyzer } from '../analysis/worker-pool';
import type { Analyzer } from '../analysis/analyzer';
import { createSuggestionService } from '../analysis/suggestions';
import { loadConfig, type Config } from '../config';
import { issue, OperationOutcomeError, outcomeOf } from '../errors';
import { loadProfiles, type Profiles } from '../fhir/profiles';
import { suggestConditions, type SuggestConditionsDeps } from '../fhir/suggest-conditions';
import { createLogger, type Logger } from '../log';
import { loadCodingRules } from '../rules/load-rules';
import { openStore } from '../store/open-store';
import { runCommand, UsageError } from './command';
import { createProgress, type Progress } from './progress';

/** The service's coding, opened as main.ts opens it, without HTTP. */
export interface CodingContext {
  deps: SuggestConditionsDeps;
  profiles: Profiles;
  analyzer: Analyzer;
  /** ANALYSIS_WORKERS. */
  workers: number;
  close(): Promise<void>;
}

/**
 * Opens the store, starts the worker pool and loads the coding rules.
 * @param config - the service's configuration (ANALYSIS_WORKERS, ENGINE, STORE_*, …)
 * @param log - where the service's log lines go
 */
export async function openCodingContext(config: Readonly<Config>, log: Logger): Promise<CodingContext> {
  const store = await openStore(config, log);
  try {
    const analyzer = await createWorkerAnalyzer({
      mode: config.engine,
      modelDir: config.modelDir,
      codeSetDir: config.codeSetDir,
      knowledgeDir: config.knowledgeDir,
      rankerDir: config.rankerDir,
      intraOpThreads: config.ortThreads,
      workers: config.analysisWorkers,
      maxQueue: config.analysisQueueMax,
    });
    const coding = await loadCodingRules(config.codeSetDir, config.knowledgeDir);
    const suggestions = createSuggestionService({
      analyzer,
      store,
      log,
      suppress: config.suppressAssertions,
      cache: config.resultCache === 'on',
      cacheTtlHours: config.resultCacheTtlHours,
    });
    const deps: SuggestConditionsDeps = {
      config,
      suggestions,
      store,
      log,
      model: analyzer.info,
      now: () => new Date(),
      newId: randomUUID,
      codeSet: coding.codeSet,
      rules: coding.rules,
    };
    return {
      deps,
      profiles: loadProfiles(),
      analyzer,
      workers: config.analysisWorkers,
      async close() {
        await suggestions.idle();
        await analyzer.dispose();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

export interface CodeSummary {
  /** Input lines (blank lines excepted). */
  documents: number;
  /** Already in the output before this run. */
  skipped: number;
  coded: number;
  errors: number;
  /** Could not be coded now (503): no record written; a rerun codes them. */
  transient: number;
  /** Stopped by a signal before the end of the input: a rerun goes on from there. */
  interrupted: boolean;
  /** A torn last line was cut from the output. */
  repairedTornLine: boolean;
  seconds: number;
  docsPerSecond: number;
}

type Parsed = { key: string; body: unknown } | { key: string; error: OperationOutcome };

const invalid = (text: string): OperationOutcome => outcomeOf([issue('error', 'invalid', text)]);

/** A `{id, text}` line as the discharge summary DocumentReference it stands for. */
function documentOfText(id: string, text: string, patient: string | undefined): DocumentReference {
  return {
    resourceType: 'DocumentReference',
    id,
    status: 'current',
    type: { coding: [{ system: 'http://loinc.org', code: '18842-5', display: 'Discharge summary' }] },
    // Condition.subject is required: without a patient the document is named as its own subject.
    subject: patient ? { reference: patient } : { identifier: { system: 'urn:icd10-cds:batch-document', value: id } },
    content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: Buffer.from(text, 'utf8').toString('base64') } }],
  };
}

const idPattern = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * One input line → the operation's body and the record's key, or an error record.
 * @param line - the line's text
 * @param n - its 1-based number
 * @param maxBytes - MAX_BODY_BYTES
 */
export function parseLine(line: string, n: number, maxBytes: number): Parsed {
  const fallback = `line:${n}`;
  if (Buffer.byteLength(line, 'utf8') > maxBytes)
    return { key: fallback, error: outcomeOf([issue('error', 'too-long', `Line is larger than ${maxBytes} bytes`)]) };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { key: fallback, error: invalid('Line is not valid JSON') };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { key: fallback, error: invalid('Line must be a JSON object') };
  const record = value as Record<string, unknown>;
  const idOf = (id: unknown) => (typeof id === 'string' && idPattern.test(id) ? id : undefined);
  if (record.resourceType === 'DocumentReference') return { key: idOf(record.id) ?? fallback, body: record };
  if (record.resourceType === 'Parameters') {
    const first = (record.parameter as { name?: string; resource?: { id?: unknown } }[] | undefined)?.find((p) => p?.name === 'document');
    return { key: idOf(record.id) ?? idOf(first?.resource?.id) ?? fallback, body: record };
  }
  if (record.resourceType === undefined && typeof record.text === 'string') {
    const id = idOf(record.id);
    if (!id) return { key: fallback, error: invalid('"id" must be 1 to 64 letters, digits, "-" or "."') };
    if (record.patient !== undefined && (typeof record.patient !== 'string' || !/^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(record.patient)))
      return { key: id, error: invalid('"patient" must be a reference such as Patient/123') };
    return { key: id, body: documentOfText(id, record.text, record.patient as string | undefined) };
  }
  return { key: fallback, error: invalid('Line must be a DocumentReference, a Parameters, or {"id", "text"}') };
}

/** Where the last complete line of `file` ends (0: none), read backwards in chunks: a record may be long. */
function endOfLastLine(fd: number, size: number): number {
  const chunk = Buffer.alloc(64 * 1024);
  for (let end = size; end > 0;) {
    const start = Math.max(0, end - chunk.length);
    const n = readSync(fd, chunk, 0, end - start, start);
    const at = chunk.subarray(0, n).lastIndexOf(0x0a);
    if (at >= 0) return start + at + 1;
    end = start;
  }
  return 0;
}

/**
 * The keys already in the output, after cutting a torn last line. Streams the file and reads
 * each record's id from its start (records begin with it), so an output of any size fits.
 * @param file - the output file (absent: nothing done)
 */
export async function resumeOutput(file: string): Promise<{ done: Set<string>; repaired: boolean }> {
  const done = new Set<string>();
  if (!existsSync(file)) return { done, repaired: false };
  const fd = openSync(file, 'r+');
  let end: number;
  let repaired = false;
  try {
    const size = fstatSync(fd).size;
    end = endOfLastLine(fd, size);
    if (end < size) {
      ftruncateSync(fd, end);
      repaired = true;
    }
  } finally {
    closeSync(fd);
  }
  if (end === 0) return { done, repaired };
  for await (const line of createInterface({ input: createReadStream(file, { end: end - 1 }), crlfDelay: Infinity })) {
    const id = /^\{"id":("(?:[^"\\]|\\.)*")/.exec(line)?.[1];
    if (id) done.add(JSON.parse(id) as string);
  }
  return { done, repaired };
}

async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) if (line.trim()) n++;
  return n;
}

export interface CodeFileOptions {
  input: string;
  output: string;
  /** Documents in flight at once (default: twice the workers). */
  concurrency?: number;
  /** Progress display (default: on stderr); `false` for none. */
  progress?: false | ((total: number) => Progress);
  /** Aborted: no further document is started; those in flight finish and are written. */
  signal?: AbortSignal;
}

/**
 * Codes every document of `input` not yet in `output`.
 * @param ctx - the opened coding
 * @param options - files, concurrency, progress
 */
export async function codeFile(ctx: CodingContext, options: CodeFileOptions): Promise<CodeSummary> {
  const { done, repaired } = await resumeOutput(options.output);
  const total = await countLines(options.input);
  const concurrency = Math.max(1, options.concurrency ?? 2 * ctx.workers);
  const summary: CodeSummary = {
    documents: 0,
    skipped: 0,
    coded: 0,
    errors: 0,
    transient: 0,
    interrupted: false,
    repairedTornLine: repaired,
    seconds: 0,
    docsPerSecond: 0,
  };
  const started = performance.now();
  // Progress counts this run's documents: those done before a restart are left out of the total.
  const pending = total - done.size;
  const progress = options.progress === false ? undefined : (options.progress ?? ((t: number) => createProgress(t)))(Math.max(0, pending));
  const out = openSync(options.output, 'a');
  // One write of one line: with O_APPEND, records never interleave, and a kill leaves at most the last one torn.
  const write = (record: object) => writeSync(out, `${JSON.stringify(record)}\n`);
  const seen = new Set<string>();
  const running = new Set<Promise<void>>();
  let failure: unknown;

  const code = async (key: string, line: number, parsed: Parsed) => {
    if ('error' in parsed) {
      write({ id: key, line, error: parsed.error });
      summary.errors++;
    } else {
      try {
        const bundle = await suggestConditions(ctx.deps, ctx.profiles, parsed.body, {
          requestId: randomUUID(),
          service: 'DocumentReference/$suggest-conditions (batch)',
        });
        write({ id: key, line, bundle });
        summary.coded++;
      } catch (error) {
        if (error instanceof OperationOutcomeError && error.status === 503) summary.transient++;
        else if (error instanceof OperationOutcomeError) {
          write({ id: key, line, error: error.outcome });
          summary.errors++;
        } else throw error;
      }
    }
    progress?.tick();
  };

  try {
    let n = 0;
    // Streamed, at most `concurrency` documents in flight: a file of any size fits in memory.
    for await (const line of createInterface({ input: createReadStream(options.input), crlfDelay: Infinity })) {
      n++;
      if (!line.trim()) continue;
      summary.documents++;
      let parsed = parseLine(line, n, ctx.deps.config.maxBodyBytes);
      if (seen.has(parsed.key)) parsed = { key: `line:${n}`, error: invalid(`Document id ${parsed.key} appears on an earlier line`) };
      seen.add(parsed.key);
      if (done.has(parsed.key)) {
        summary.skipped++;
        continue;
      }
      const task: Promise<void> = code(parsed.key, n, parsed)
        .catch((error: unknown) => {
          failure ??= error;
        })
        .finally(() => running.delete(task));
      running.add(task);
      if (running.size >= concurrency) await Promise.race(running);
      if (failure) break;
      if (options.signal?.aborted) {
        summary.interrupted = true;
        break;
      }
    }
    await Promise.all(running);
    if (failure) throw failure;
  } finally {
    progress?.done();
    closeSync(out);
  }
  summary.seconds = Number(((performance.now() - started) / 1000).toFixed(2));
  summary.docsPerSecond = Number(((summary.coded + summary.errors) / Math.max(summary.seconds, 1e-3)).toFixed(1));
  return summary;
}

runCommand(module, 'code', async () => {
  const usage = 'usage: npm run code -- --in <notes.ndjson> --out <suggestions.ndjson> [--concurrency <n>]';
  let values: { in?: string; out?: string; concurrency?: string };
  try {
    ({ values } = parseArgs({ options: { in: { type: 'string' }, out: { type: 'string' }, concurrency: { type: 'string' } } }));
  } catch {
    throw new UsageError(usage);
  }
  const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
  if (!values.in || !values.out || (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1))) throw new UsageError(usage);
  if (!existsSync(values.in)) throw new UsageError(`${usage}\n${values.in} does not exist`);
  const config = loadConfig(process.env);
  // The service's log lines on stderr, warnings and up unless LOG_LEVEL says otherwise (one info line a document would drown the progress).
  const log = createLogger(process.env.LOG_LEVEL ? config.logLevel : 'warn', process.stderr);
  const ctx = await openCodingContext(config, log);
  // SIGINT or SIGTERM: the documents in flight finish and are written, then the command stops
  // (exit 130); a second signal stops at once. Either way a rerun resumes.
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let summary: CodeSummary;
  try {
    summary = await codeFile(ctx, { input: values.in, output: values.out, concurrency, signal: stop.signal });
  } finally {
    await ctx.close();
  }
  if (summary.interrupted) process.exitCode = 130;
  else if (summary.transient > 0) process.exitCode = 1;
  return summary;
});
