/**
 * The registry of CDS services: each definition (served by discovery) with its handler.
 * The service id, its URL segment and its file name are the same string.
 */
import { fhirServerPolicy } from '../auth/fhir-server-policy';
import type { Services } from '../services';
import { definitionOf, icd10cmSuggestions, type CallContext } from './icd10cm-suggestions';
import type { CdsServiceDefinition, HookResponse } from './types';

export type { CallContext } from './icd10cm-suggestions';

export interface CdsService {
  definition: CdsServiceDefinition;
  call(body: unknown, context: CallContext): Promise<HookResponse>;
}

/** All services, by id. */
export function registry(services: Services): Map<string, CdsService> {
  const { config } = services;
  const fhirServers = fhirServerPolicy({ auth: config.auth, clients: services.trustedClients, allowPrivate: config.allowPrivateFhirServers === 'on' });
  const icd10 = definitionOf(config.dischargeSummaryLoinc);
  return new Map([[icd10.id, { definition: icd10, call: icd10cmSuggestions(services, icd10, fhirServers) }]]);
}
