/**
 * The one error middleware. OperationOutcomeError → its status and body; body-parser
 * failures → 400/413/415; the store unavailable (StoreUnavailableError, wherever it was not
 * already turned into a 503) → 503 `transient` with Retry-After; anything else → logged and
 * answered 500 with a generic OperationOutcome (never a stack trace, never the error message).
 */
import type { ErrorRequestHandler } from 'express';
import { badRequest, internalError, OperationOutcomeError, payloadTooLarge, unavailable, unsupportedMediaType } from '../errors';
import type { Logger } from '../log';
import { StoreUnavailableError } from '../store/store';

/** Errors body-parser raises, by their `type`. */
function fromBodyParser(error: { type?: string; status?: number; expose?: boolean }): OperationOutcomeError | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return badRequest('Request body is not valid JSON', undefined, 'structure');
    case 'entity.too.large':
      return payloadTooLarge('Request body is larger than the configured limit');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return unsupportedMediaType('Request body charset or encoding is not supported (use UTF-8)');
    case 'request.aborted':
    case 'request.size.invalid':
      return badRequest('Request body was incomplete');
    default:
      // body-parser wraps stream errors it has no type for (e.g. a Content-Encoding: gzip body
      // that is not gzip) in a typeless http-errors 400: still the client's fault, not a 500.
      // `expose` is what http-errors sets on client errors; the message is never echoed.
      if (error.expose === true && typeof error.status === 'number' && error.status >= 400 && error.status < 500) {
        return badRequest('Request body could not be read (check Content-Encoding and Content-Length)');
      }
      return undefined;
  }
}

/** Media type of error bodies: FHIR's at /fhir, plain JSON elsewhere. */
export function mediaTypeFor(path: string): string {
  return path === '/fhir' || path.startsWith('/fhir/') ? 'application/fhir+json' : 'application/json';
}

/**
 * @param log - where unexpected errors are logged (message and stack only; never bodies)
 */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    let known = error instanceof OperationOutcomeError ? error : fromBodyParser(error ?? {});
    if (!known && error instanceof StoreUnavailableError) {
      // The message names what failed (no credentials, no parameters, no content).
      log.error({ err: { message: error.message }, requestId: res.locals.requestId }, 'store unavailable');
      known = unavailable('The service cannot reach its store now; retry later');
    } else if (!known) {
      log.error({ err: { message: error?.message, stack: error?.stack }, requestId: res.locals.requestId }, 'unexpected error');
      known = internalError();
    } else if (known.status >= 500) {
      log.error({ status: known.status, requestId: res.locals.requestId }, 'request failed');
    }
    if (res.headersSent) return;
    res.status(known.status);
    for (const [name, value] of Object.entries(known.headers)) res.setHeader(name, value);
    res.type(mediaTypeFor(req.path)).send(JSON.stringify(known.outcome));
  };
}
