/**
 * The registry of CDS services: each definition (served by discovery) with its handler.
 * The service id, its URL segment and its file name are the same string.
 */
import type { Services } from '../app';
import type { ServerTiming } from '../http/server-timing';
import { definitionOf, icd10cmSuggestions } from './icd10cm-suggestions';
import type { CdsServiceDefinition, HookResponse } from './types';

export interface CdsService {
  definition: CdsServiceDefinition;
  /** `timing` collects the stages of the call for the Server-Timing header. */
  call(body: unknown, requestId: string, timing?: ServerTiming): Promise<HookResponse>;
}

/** All services, by id. */
export function registry(services: Services): Map<string, CdsService> {
  const icd10 = definitionOf(services.config.dischargeSummaryLoinc);
  return new Map([[icd10.id, { definition: icd10, call: icd10cmSuggestions(services, icd10) }]]);
}
