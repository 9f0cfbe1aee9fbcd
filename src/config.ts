/**
 * Configuration: the only reader of process.env.
 *
 * Parsed once at start-up, every problem reported at once, returned frozen and passed
 * explicitly (no global getter). Tests build theirs with test/helpers testConfig().
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseTrustedClients, type TrustedClient } from './auth/trusted-clients';
import type { AssertionStatus } from './evidence/assertion';
import { DEFAULT_SUPPRESSED } from './evidence/context';

/** The project root: one level above src/ (ts-jest) or dist/ (compiled). */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

/** This software's version (package.json), for CapabilityStatement and Provenance. */
export const SOFTWARE_VERSION: string = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')).version;

export interface Config {
  /** TCP port and interface to listen on. */
  port: number;
  host: string;
  /** Model bundle directory. */
  modelDir: string;
  /** onnxruntime intra-op threads per inference (0: one per core). */
  ortThreads: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Largest request body accepted, in bytes (413 above). */
  maxBodyBytes: number;
  /** Largest decoded note accepted, in characters (413 above; notes are never truncated). */
  maxNoteChars: number;
  /** Deepest nesting of arrays and objects accepted in a JSON body (400 above). */
  maxJsonDepth: number;
  /** On SIGTERM/SIGINT, how long in-flight requests may take to finish before they are cut, in ms. */
  shutdownDrainMs: number;
  /** Public base URL of this service, e.g. https://cds.example.org (CapabilityStatement). */
  publicBaseUrl?: string;
  /** Timeout of each request to an EHR's FHIR server, in milliseconds. */
  fhirTimeoutMs: number;
  /** LOINC codes that identify a discharge summary DocumentReference. */
  dischargeSummaryLoinc: readonly string[];
  /** A code whose evidence has only these assertion statuses is not suggested. */
  suppressAssertions: readonly AssertionStatus[];
  /** The audit and feedback store: an SQLite file (created with its directory), or `:memory:`. */
  storePath: string;
  /** `off` accepts every call without a token (local development only); anything else is on. */
  auth: 'on' | 'off';
  /** Trusted CDS clients (the CDS_CLIENTS file): their JWTs are accepted at both edges. */
  cdsClients: readonly TrustedClient[];
  /** Static bearer tokens accepted at the FHIR endpoint (FHIR_TOKENS). Never logged. */
  fhirTokens: readonly string[];
  /** Clock skew tolerated on a token's exp and iat, in seconds. */
  authClockSkewSeconds: number;
  /** Origins browsers may call from (CORS): `['*']` for any. */
  corsOrigins: readonly string[];
  /**
   * CDS hook: when the analysis is not done this many ms after the call started, answer an
   * information card and let it finish in the background into the result cache.
   */
  hookTimeBudgetMs: number;
  /** Worker threads running the model (each holds its own copy of it). */
  analysisWorkers: number;
  /** Analyses allowed to wait for a worker; more are answered 503. */
  analysisQueueMax: number;
  /** The result cache (offsets only, no note text): on, or off. */
  resultCache: 'on' | 'off';
  /** Age after which a cache entry is no longer used and is deleted, in hours. */
  resultCacheTtlHours: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Reads and checks the configuration.
 * @param env - the environment (process.env in main.ts)
 * @throws Error listing every invalid variable
 */
export function loadConfig(env: Record<string, string | undefined>): Readonly<Config> {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer between ${min} and ${max}`);
      return fallback;
    }
    return value;
  };

  const logLevel = (env.LOG_LEVEL || 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  let publicBaseUrl: string | undefined;
  if (env.PUBLIC_BASE_URL) {
    try {
      const url = new URL(env.PUBLIC_BASE_URL);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
      publicBaseUrl = url.href.replace(/\/+$/, '');
    } catch {
      problems.push('PUBLIC_BASE_URL must be an absolute http(s) URL');
    }
  }

  const loinc = (env.DISCHARGE_SUMMARY_LOINC || '18842-5').split(',').map((c) => c.trim()).filter(Boolean);
  if (loinc.some((c) => !/^\d{1,7}-\d$/.test(c))) problems.push('DISCHARGE_SUMMARY_LOINC must be comma-separated LOINC codes such as 18842-5');

  // "none" turns suppression off: every code over its threshold is shown, with its status.
  const suppressRaw = env.SUPPRESS_ASSERTIONS ?? DEFAULT_SUPPRESSED.join(',');
  const suppressAssertions = suppressRaw.trim() === 'none' ? [] : suppressRaw.split(',').map((s) => s.trim()).filter(Boolean) as AssertionStatus[];
  const statuses: readonly string[] = ['present', 'negated', 'historical', 'family', 'hypothetical', 'uncertain'];
  if (suppressAssertions.some((s) => !statuses.includes(s) || s === 'present')) {
    problems.push(`SUPPRESS_ASSERTIONS must be "none" or comma-separated statuses among ${statuses.slice(1).join(', ')}`);
  }

  const auth = (env.AUTH || 'on') as Config['auth'];
  if (auth !== 'on' && auth !== 'off') problems.push('AUTH must be "on" or "off"');
  const cdsClients = env.CDS_CLIENTS ? trustedClientsFrom(env.CDS_CLIENTS, problems) : [];

  // Long random strings only: these are shared secrets, and a short one can be guessed.
  const fhirTokens = (env.FHIR_TOKENS ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  if (fhirTokens.some((t) => !/^[\x21-\x7e]{32,}$/.test(t))) {
    problems.push('FHIR_TOKENS must be comma-separated tokens of at least 32 visible ASCII characters each');
  }

  const corsOrigins = (env.CORS_ORIGINS || '*').split(',').map((o) => o.trim().replace(/\/+$/, '')).filter(Boolean);
  const isOrigin = (o: string) => {
    try {
      return new URL(o).origin === o;
    } catch {
      return false;
    }
  };
  if (!(corsOrigins.length === 1 && corsOrigins[0] === '*') && !corsOrigins.every(isOrigin)) {
    problems.push('CORS_ORIGINS must be "*" or comma-separated origins such as https://ehr.example.org');
  }

  const resultCache = (env.RESULT_CACHE || 'on') as Config['resultCache'];
  if (resultCache !== 'on' && resultCache !== 'off') problems.push('RESULT_CACHE must be "on" or "off"');

  const config: Config = {
    port: int('PORT', 8080, 0, 65535),
    host: env.HOST || '127.0.0.1',
    modelDir: path.resolve(env.MODEL_DIR || path.join(PROJECT_ROOT, 'models', 'default')),
    ortThreads: int('ORT_THREADS', 0, 0, 256),
    logLevel,
    maxBodyBytes: int('MAX_BODY_BYTES', 5 * 1024 * 1024, 1024),
    maxNoteChars: int('MAX_NOTE_CHARS', 200_000, 100),
    maxJsonDepth: int('MAX_JSON_DEPTH', 64, 16, 10_000),
    shutdownDrainMs: int('SHUTDOWN_DRAIN_MS', 20_000, 0, 600_000),
    publicBaseUrl,
    fhirTimeoutMs: int('FHIR_TIMEOUT_MS', 5000, 100, 60_000),
    dischargeSummaryLoinc: loinc,
    suppressAssertions,
    storePath: env.STORE_PATH === ':memory:' ? ':memory:' : path.resolve(env.STORE_PATH || path.join(PROJECT_ROOT, 'data', 'icd10-cds.sqlite')),
    auth,
    cdsClients,
    fhirTokens,
    authClockSkewSeconds: int('AUTH_CLOCK_SKEW_SECONDS', 60, 0, 300),
    corsOrigins,
    hookTimeBudgetMs: int('HOOK_TIME_BUDGET_MS', 400, 10, 60_000),
    analysisWorkers: int('ANALYSIS_WORKERS', 1, 1, 64),
    analysisQueueMax: int('ANALYSIS_QUEUE_MAX', 64, 0, 100_000),
    resultCache,
    resultCacheTtlHours: int('RESULT_CACHE_TTL_HOURS', 24, 1, 24 * 365),
  };
  if (problems.length > 0) throw new Error(`Invalid configuration:\n- ${problems.join('\n- ')}`);
  return Object.freeze(config);
}

/**
 * Reads and checks the trusted-client file named by CDS_CLIENTS.
 * @param file - its path (relative to the working directory)
 * @param problems - where problems are reported
 */
function trustedClientsFrom(file: string, problems: string[]): TrustedClient[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path.resolve(file), 'utf8'));
  } catch (error) {
    const code = (error as { code?: string }).code;
    problems.push(`CDS_CLIENTS file ${file} ${code ? `cannot be read (${code})` : 'is not valid JSON'}`);
    return [];
  }
  const { clients, problems: found } = parseTrustedClients(json, 'CDS_CLIENTS');
  problems.push(...found);
  return clients;
}
