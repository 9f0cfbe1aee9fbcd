/**
 * Recorded Conditions → the ICD-10-CM codes they record (for delta coding, coding/recorded-codes.ts).
 * Used by both edges: prefetched or fetched Conditions (CDS) and `recordedCondition` inputs
 * (FHIR). A tolerant reader: prefetched resources are not schema-checked, so every element
 * is type-checked before use and anything unusable is skipped.
 */
import type { Condition, Reference } from '@medplum/fhirtypes';
import { normalizeIcd10cm, type RecordedCode } from '../coding/recorded-codes';
import { CONDITION_VERIFICATION_SYSTEM, ICD10CM_OID, ICD10CM_SYSTEM } from './constants';

/** verificationStatus codes meaning "this code is not recorded" (R4 condition-ver-status). */
const NOT_RECORDED = ['entered-in-error', 'refuted'];

/** Whether a Condition's verificationStatus is entered-in-error or refuted. */
function isWithdrawn(condition: Condition): boolean {
  const codings = condition.verificationStatus?.coding;
  return Array.isArray(codings) && codings.some((c) => c?.system === CONDITION_VERIFICATION_SYSTEM && NOT_RECORDED.includes(c.code ?? ''));
}

/**
 * The ICD-10-CM codes of the Conditions (system `http://hl7.org/fhir/sid/icd-10-cm`, or its
 * OID `urn:oid:2.16.840.1.113883.6.90`), dotted and upper case, each with its display and the
 * Condition it comes from. Conditions that are entered-in-error or refuted record nothing;
 * codes not shaped like ICD-10-CM codes are skipped.
 * @param conditions - recorded Conditions of the encounter
 */
export function recordedCodesOf(conditions: readonly Condition[]): RecordedCode[] {
  const codes: RecordedCode[] = [];
  for (const condition of conditions) {
    if (condition?.resourceType !== 'Condition' || isWithdrawn(condition)) continue;
    const id = typeof condition.id === 'string' ? condition.id : undefined;
    const identifier = Array.isArray(condition.identifier) ? condition.identifier.find((i) => typeof i?.value === 'string') : undefined;
    const codings = Array.isArray(condition.code?.coding) ? condition.code.coding : [];
    for (const coding of codings) {
      if (coding?.system !== ICD10CM_SYSTEM && coding?.system !== ICD10CM_OID) continue;
      const code = typeof coding.code === 'string' ? normalizeIcd10cm(coding.code) : undefined;
      if (!code) continue;
      const reference = id ? `Condition/${id}` : undefined;
      // The same code twice in one Condition (e.g. dotted and undotted codings) is one record.
      if (reference && codes.some((c) => c.code === code && c.reference === reference)) continue;
      codes.push({
        code,
        ...(typeof coding.display === 'string' && coding.display.trim() ? { display: coding.display } : {}),
        ...(reference ? { reference } : identifier ? { identifier: { system: identifier.system, value: identifier.value } } : {}),
      });
    }
  }
  return codes;
}

/** A FHIR Reference to the recorded Condition, with the code and display as its display. */
export function recordedReferenceOf(recorded: RecordedCode): Reference<Condition> {
  const display = recorded.display ? `${recorded.code} ${recorded.display}` : recorded.code;
  if (recorded.reference) return { reference: recorded.reference, display };
  if (recorded.identifier) {
    const { system, value } = recorded.identifier;
    return { identifier: { ...(system ? { system } : {}), ...(value ? { value } : {}) }, display };
  }
  return { display };
}
