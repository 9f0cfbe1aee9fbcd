/**
 * Configuration: the only reader of process.env.
 *
 * Parsed once at start-up, every problem reported at once, returned frozen and passed
 * explicitly (no global getter). Tests build theirs with test/helpers testConfig().
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
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
  /** Public base URL of this service, e.g. https://cds.example.org (CapabilityStatement). */
  publicBaseUrl?: string;
  /** Timeout of each request to an EHR's FHIR server, in milliseconds. */
  fhirTimeoutMs: number;
  /** LOINC codes that identify a discharge summary DocumentReference. */
  dischargeSummaryLoinc: readonly string[];
  /** A code whose evidence has only these assertion statuses is not suggested. */
  suppressAssertions: readonly AssertionStatus[];
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

  const config: Config = {
    port: int('PORT', 8080, 0, 65535),
    host: env.HOST || '127.0.0.1',
    modelDir: path.resolve(env.MODEL_DIR || path.join(PROJECT_ROOT, 'models', 'default')),
    ortThreads: int('ORT_THREADS', 0, 0, 256),
    logLevel,
    maxBodyBytes: int('MAX_BODY_BYTES', 5 * 1024 * 1024, 1024),
    maxNoteChars: int('MAX_NOTE_CHARS', 200_000, 100),
    publicBaseUrl,
    fhirTimeoutMs: int('FHIR_TIMEOUT_MS', 5000, 100, 60_000),
    dischargeSummaryLoinc: loinc,
    suppressAssertions,
  };
  if (problems.length > 0) throw new Error(`Invalid configuration:\n- ${problems.join('\n- ')}`);
  return Object.freeze(config);
}
