/**
 * FHIR system URIs and canonical URLs, in one place (never inline in builders).
 */

/** HL7 R4 NamingSystem for ICD-10-CM (dotted codes). */
export const ICD10CM_SYSTEM = 'http://hl7.org/fhir/sid/icd-10-cm';
/** The OID form of ICD-10-CM some EHRs send; accepted when reading recorded Conditions. */
export const ICD10CM_OID = 'urn:oid:2.16.840.1.113883.6.90';
export const LOINC_SYSTEM = 'http://loinc.org';
export const CONDITION_VERIFICATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
export const CONDITION_CATEGORY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/condition-category';
/** v3 ObservationValue holds AIAST ("Artificial Intelligence asserted"), the AI Transparency label. */
export const OBSERVATION_VALUE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue';
export const URN_SYSTEM = 'urn:ietf:rfc:3986';
export const PROVENANCE_PARTICIPANT_SYSTEM = 'http://terminology.hl7.org/CodeSystem/provenance-participant-type';

/**
 * Confidence of a suggestion, 0–1, as valueDecimal. The AI Transparency IG's AIconfidence
 * extension (CI build): kept in this one constant so it can be swapped if the IG changes it
 * before publication.
 */
export const CONFIDENCE_EXTENSION = 'http://hl7.org/fhir/uv/aitransparency/StructureDefinition/AIconfidence';
/** Extensions pack derivation-reference: where in the source document the evidence is. */
export const DERIVATION_REFERENCE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/derivation-reference';
/**
 * R4 core extension condition-related (valueReference(Condition), "unspecified relationship
 * with another condition"): on a suggestion that refines a recorded Condition, points to it.
 */
export const CONDITION_RELATED_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/condition-related';

/** Namespace of this project's canonical resources (fhir-profiles/). */
export const CANONICAL_BASE = 'http://icd10-cds.org/fhir';
export const SUGGEST_OPERATION_URL = `${CANONICAL_BASE}/OperationDefinition/DocumentReference-suggest-conditions`;
export const SUGGESTED_CONDITION_PROFILE = `${CANONICAL_BASE}/StructureDefinition/suggested-condition`;
export const OVERRIDE_REASON_SYSTEM = `${CANONICAL_BASE}/CodeSystem/override-reason`;
export const CDS_TOPIC_SYSTEM = `${CANONICAL_BASE}/CodeSystem/cds-topic`;
export const CODING_RULE_SYSTEM = `${CANONICAL_BASE}/CodeSystem/coding-rule`;

export const FHIR_JSON = 'application/fhir+json';
