/**
 * GET /fhir/metadata: the CapabilityStatement, built from fhir-profiles/.
 * Advertises only what is implemented: the $suggest-conditions operation and reads of the
 * project's own definitions (no create/read/search of DocumentReference).
 */
import type { CapabilityStatement } from '@medplum/fhirtypes';
import { SOFTWARE_VERSION } from '../config';
import type { ModelInfo } from '../model/types';
import type { Profiles } from './profiles';

/**
 * @param profiles - the loaded definitions
 * @param model - the loaded model (named in the implementation description)
 * @param baseUrl - public base URL of the service, when configured
 */
export function capabilityStatementOf(profiles: Profiles, model: ModelInfo, baseUrl?: string): CapabilityStatement {
  const operation = profiles.suggestOperation;
  const readable = [...new Set([...profiles.byReference.values()].map((r) => r.resourceType))].sort();
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: operation.date!,
    publisher: 'icd10-cds',
    kind: 'instance',
    software: { name: 'icd10-cds', version: SOFTWARE_VERSION },
    implementation: {
      description: `ICD-10-CM coding suggestions from discharge summaries (model ${model.name} ${model.version}); suggestions only, nothing is stored`,
      ...(baseUrl ? { url: `${baseUrl}/fhir` } : {}),
    },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [{
      mode: 'server',
      documentation: 'Stateless: no resource is created, updated or stored.',
      resource: [
        {
          type: 'DocumentReference',
          operation: [{ name: operation.code!, definition: operation.url!, documentation: operation.title }],
        },
        ...readable.map((type) => ({
          type,
          interaction: [{ code: 'read' as const }],
          documentation: `The service's own ${type} resources (fhir-profiles/)`,
        })),
      ],
    }],
  };
}
