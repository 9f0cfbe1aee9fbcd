/**
 * Structured logging (pino).
 *
 * What may be logged: sizes, counts, durations, model name/version, request id,
 * hookInstance, codes and scores. Never note text, decoded attachments, token ids, prefetch
 * bodies or credentials. Callers log only such fields; the redaction list below is a second
 * line of defence for keys that must never reach a log line.
 */
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

const REDACTED_KEYS = ['authorization', 'access_token', 'fhirAuthorization', 'prefetch', 'text', 'note', 'data', 'body', 'token'];

/**
 * Creates the service logger.
 * @param level - pino level name
 * @param destination - where lines go (stdout by default; tests pass a stream)
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'icd10-cds' },
      redact: { paths: [...REDACTED_KEYS, ...REDACTED_KEYS.map((k) => `*.${k}`)], censor: '[redacted]' },
    },
    destination,
  );
}
