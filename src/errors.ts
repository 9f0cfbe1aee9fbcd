/**
 * Errors as FHIR OperationOutcome, built in one place.
 *
 * Any stage may throw an `OperationOutcomeError`; the HTTP error handler renders it with
 * its explicit status at both edges (FHIR requires OperationOutcome; CDS Hooks 2.0 names
 * no error body, and the 3.0 ballot says a service SHOULD return one).
 * Texts name fields and types, never note content (no PHI in error bodies).
 */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

/** R4 issue-type codes we use (http://hl7.org/fhir/R4/valueset-issue-type.html). */
export type IssueCode = NonNullable<OperationOutcomeIssue['code']>;
export type IssueSeverity = NonNullable<OperationOutcomeIssue['severity']>;

export class OperationOutcomeError extends Error {
  /**
   * @param status - HTTP status to answer with
   * @param outcome - the OperationOutcome body
   * @param headers - extra response headers (e.g. WWW-Authenticate)
   */
  constructor(
    readonly status: number,
    readonly outcome: OperationOutcome,
    readonly headers: Record<string, string> = {},
  ) {
    super(outcome.issue?.[0]?.details?.text ?? `HTTP ${status}`);
    this.name = 'OperationOutcomeError';
  }
}

/** One issue. `expression` is a FHIRPath (or JSON-pointer-like path at the CDS edge). */
export function issue(severity: IssueSeverity, code: IssueCode, text: string, expression?: string): OperationOutcomeIssue {
  return {
    severity,
    code,
    details: { text },
    ...(expression ? { expression: [expression] } : {}),
  };
}

/** An OperationOutcome holding the given issues. */
export function outcomeOf(issues: OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues };
}

function fail(status: number, severity: IssueSeverity, code: IssueCode, text: string, expression?: string) {
  return new OperationOutcomeError(status, outcomeOf([issue(severity, code, text, expression)]));
}

/** 400: the request is malformed (not JSON, wrong shape, missing required element). */
export function badRequest(text: string, expression?: string, code: IssueCode = 'invalid') {
  return fail(400, 'error', code, text, expression);
}

/** 400 with several issues at once (e.g. every schema violation). */
export function invalidResource(issues: OperationOutcomeIssue[]) {
  return new OperationOutcomeError(400, outcomeOf(issues));
}

/**
 * 401: the same body whatever went wrong (no token, bad signature, wrong aud, replay...), per
 * CDS Hooks best practice ("should not leak the details"); RFC 6750 §3 challenge header.
 */
export function unauthorized() {
  return new OperationOutcomeError(401, outcomeOf([issue('error', 'login', 'Authentication failed')]), { 'WWW-Authenticate': 'Bearer' });
}

/** 404: unknown route, service id or resource type. */
export function notFound(text: string) {
  return fail(404, 'error', 'not-found', text);
}

/** 405: the path exists but not for this method. */
export function methodNotAllowed(method: string, allowed: string[]) {
  const error = fail(405, 'error', 'not-supported', `Method ${method} is not allowed here`);
  error.headers.Allow = allowed.join(', ');
  return error;
}

/** 406: the client accepts no representation we produce. */
export function notAcceptable(text: string) {
  return fail(406, 'error', 'not-supported', text);
}

/** 412: CDS Hooks 2.0 §Prefetch: required data could be neither prefetched nor fetched. */
export function preconditionFailed(text: string) {
  return fail(412, 'error', 'not-found', text);
}

/** 413: body (or decoded note) larger than the configured limit. */
export function payloadTooLarge(text: string) {
  return fail(413, 'error', 'too-costly', text);
}

/** 415: request Content-Type is not JSON. */
export function unsupportedMediaType(text: string) {
  return fail(415, 'error', 'not-supported', text);
}

/** 422: valid FHIR that we cannot process (unsupported attachment type, entered-in-error...). */
export function unprocessable(text: string, code: IssueCode = 'processing', expression?: string) {
  return fail(422, 'error', code, text, expression);
}

/** 500: never carries internals; the cause is logged, not echoed. */
export function internalError() {
  return fail(500, 'fatal', 'exception', 'Internal error while processing the request');
}

/** Seconds a client is asked to wait before retrying a 503 (RFC 9110 §10.2.3 Retry-After). */
export const RETRY_AFTER_SECONDS = 5;

/**
 * 503 `transient`: a dependency (the model, the store) cannot serve now and may soon; with
 * Retry-After, so a client waits before it retries.
 */
export function unavailable(text: string) {
  const error = fail(503, 'error', 'transient', text);
  error.headers['Retry-After'] = String(RETRY_AFTER_SECONDS);
  return error;
}
