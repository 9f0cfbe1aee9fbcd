/**
 * Parsing a CDS Hooks 2.0 service call: the generic request shape, the hook this service is
 * registered for, and the hook's context. Problems → 400 OperationOutcome (names fields,
 * never values).
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { badRequest, invalidResource, issue } from '../errors';
import type { CdsServiceDefinition, HookRequest } from './types';
import { validateCds, type CdsWireKind } from './wire-checks';

function check(kind: CdsWireKind, body: unknown, prefix = '') {
  const messages = validateCds(kind, body);
  if (messages.length > 0) {
    const issues: OperationOutcomeIssue[] = messages.slice(0, 20).map((m) => issue('error', 'structure', `${prefix}${m}`));
    throw invalidResource(issues);
  }
}

/**
 * @param body - the parsed JSON body
 * @param service - the service being called
 * @param contextKind - schema of the hook's context
 */
export function parseHookRequest<C>(body: unknown, service: CdsServiceDefinition, contextKind: CdsWireKind): HookRequest<C> {
  if (body === undefined) throw badRequest('Request body is empty', undefined, 'required');
  check('request', body);
  const request = body as HookRequest<C>;
  if (request.hook !== service.hook) {
    throw badRequest(`Service ${service.id} answers the ${service.hook} hook only`, 'hook', 'not-supported');
  }
  check(contextKind, request.context, 'context');
  return request;
}
