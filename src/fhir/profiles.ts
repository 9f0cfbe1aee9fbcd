/**
 * The project's FHIR definitions (fhir-profiles/*.json), loaded once: they drive parameter
 * parsing, /metadata and the read endpoints, and the tests.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { CodeSystem, OperationDefinition, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { PROFILES_DIR } from '../paths';
import { CDS_TOPIC_SYSTEM, CODING_RULE_SYSTEM, OVERRIDE_REASON_SYSTEM, SUGGEST_OPERATION_URL, SUGGESTED_CONDITION_PROFILE } from './constants';

export { PROFILES_DIR };

export interface Profiles {
  /** Every definition, by `<resourceType>/<id>`. */
  byReference: ReadonlyMap<string, Resource>;
  suggestOperation: OperationDefinition;
  suggestedCondition: StructureDefinition;
  overrideReasons: CodeSystem;
  cdsTopics: CodeSystem;
  codingRules: CodeSystem;
}

let loaded: Profiles | undefined;

/** Reads fhir-profiles/ (once per process). */
export function loadProfiles(): Profiles {
  if (loaded) return loaded;
  const byReference = new Map<string, Resource>();
  const byUrl = new Map<string, Resource>();
  for (const file of readdirSync(PROFILES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const resource = JSON.parse(readFileSync(path.join(PROFILES_DIR, file), 'utf8')) as Resource & { url?: string };
    byReference.set(`${resource.resourceType}/${resource.id}`, resource);
    if (resource.url) byUrl.set(resource.url, resource);
  }
  const need = <T extends Resource>(url: string, type: T['resourceType']) => {
    const resource = byUrl.get(url);
    if (!resource || resource.resourceType !== type) throw new Error(`fhir-profiles/ lacks the ${type} ${url}`);
    return resource as T;
  };
  loaded = {
    byReference,
    suggestOperation: need<OperationDefinition>(SUGGEST_OPERATION_URL, 'OperationDefinition'),
    suggestedCondition: need<StructureDefinition>(SUGGESTED_CONDITION_PROFILE, 'StructureDefinition'),
    overrideReasons: need<CodeSystem>(OVERRIDE_REASON_SYSTEM, 'CodeSystem'),
    cdsTopics: need<CodeSystem>(CDS_TOPIC_SYSTEM, 'CodeSystem'),
    codingRules: need<CodeSystem>(CODING_RULE_SYSTEM, 'CodeSystem'),
  };
  return loaded;
}
