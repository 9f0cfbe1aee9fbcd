/**
 * GET /fhir/metadata: the CapabilityStatement, built from fhir-profiles/.
 * Advertises only what is implemented: the $suggest-conditions operation and reads of the
 * project's own definitions (no create/read/search of DocumentReference).
 */
import type { CapabilityStatement } from '@medplum/fhirtypes';
import { SOFTWARE_VERSION } from '../paths';
import type { ModelInfo } from '../model/types';
import type { Profiles } from './profiles';

/**
 * @param profiles - the loaded definitions
 * @param model - the loaded model (named in the implementation description)
 * @param baseUrl - public base URL of the service, when configured
 * @param authRequired - whether $suggest-conditions needs a bearer token (false only with AUTH=off)
 */
export function capabilityStatementOf(profiles: Profiles, model: ModelInfo, baseUrl?: string, authRequired = true): CapabilityStatement {
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
      description: `ICD-10-CM coding suggestions from discharge summaries (model ${model.name} ${model.version}); suggestions only; each call is audited without note text`,
      ...(baseUrl ? { url: `${baseUrl}/fhir` } : {}),
    },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        documentation:
          'No FHIR resource is created or updated on any server; each call is audited (ids, note hash, codes, offsets; never note text). ' +
          'With `Prefer: respond-async`, $suggest-conditions runs as a bulk job (the FHIR asynchronous request pattern, as in Bulk Data): ' +
          '202 with Content-Location, NDJSON outputs; the documents and output Conditions are kept until coded and until the job expires or is cancelled.',
        // R4 rest.security: `service` is left out because restful-security-service has no code
        // for a plain bearer token or a signed client assertion (only OAuth, SMART-on-FHIR, ...).
        security: {
          cors: true,
          description: authRequired
            ? '$suggest-conditions (with its bulk job URLs) requires `Authorization: Bearer <token>`: a static token issued by the operator, ' +
              'or a JWT signed (ES384 or RS384) by a trusted client with `aud` = the URL invoked and `exp`, `iat`, `jti`. ' +
              'Failures answer 401 with `WWW-Authenticate: Bearer`. This CapabilityStatement and the definitions it names are public.'
            : 'Authentication is disabled (AUTH=off): for local development only.',
        },
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
      },
    ],
  };
}
