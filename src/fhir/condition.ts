/**
 * Suggestion → the suggested Condition (fhir-profiles/StructureDefinition-suggested-condition.json).
 *
 * Always provisional, always an encounter diagnosis, labelled as AI-asserted, carrying its
 * confidence and the passages of the source document that support it. Used by both edges.
 */
import type { Condition, Encounter, Extension, Patient, Reference } from '@medplum/fhirtypes';
import type { DeltaSuggestion } from '../coding/recorded-codes';
import { describeContext } from '../evidence/context';
import { codePointIndex } from '../note/code-points';
import type { ModelInfo } from '../model/types';
import type { Note, NoteSource } from '../note/note';
import {
  CONDITION_CATEGORY_SYSTEM,
  CONDITION_RELATED_EXTENSION,
  CONDITION_VERIFICATION_SYSTEM,
  CONFIDENCE_EXTENSION,
  DERIVATION_REFERENCE_EXTENSION,
  ICD10CM_SYSTEM,
  OBSERVATION_VALUE_SYSTEM,
  SUGGESTED_CONDITION_PROFILE,
  URN_SYSTEM,
} from './constants';
import { escapeMarkdownInline } from './markdown';
import { recordedReferenceOf } from './recorded-conditions';

export interface ConditionContext {
  /** The patient, e.g. `{ reference: 'Patient/123' }` */
  subject: Reference<Patient>;
  /** The encounter, when known */
  encounter?: Reference<Encounter>;
  model: ModelInfo;
  /** uuid identifying this suggestion (card suggestion uuid, Bundle fullUrl) */
  suggestionId: string;
  notes: readonly Note[];
}

/** Reference to a source document: by id when it has one, else by business identifier. */
export function documentReferenceOf(source: NoteSource): Reference {
  if (source.reference) return { reference: source.reference, display: source.display };
  if (source.identifier) return { identifier: { ...source.identifier }, display: source.display };
  return { display: source.display };
}

/** Confidence as shown to people: a percentage, never above 99% (the model is not certain). */
export function percent(score: number): string {
  return `${Math.min(99, Math.round(score * 100))}%`;
}

/** Confidence as a decimal for people: two places, and "> 0.99" rather than a rounded 1.00. */
export function confidenceText(score: number): string {
  return score >= 0.995 ? '> 0.99' : score.toFixed(2);
}

/**
 * Builds the suggested Condition. A refinement points to each recorded Condition it refines
 * (extension condition-related) and says so in a note; the recorded ones are not touched.
 * @param suggestion - code, score and evidence, and the recorded codes it refines
 * @param ctx - patient, encounter, model and the notes the evidence points into
 */
export function toCondition(suggestion: DeltaSuggestion, ctx: ConditionContext): Condition {
  const modelLabel = `${ctx.model.name} ${ctx.model.version}`;
  const derivations: Extension[] = suggestion.evidence.map((e) => {
    const note = ctx.notes[e.note];
    // Offsets in Unicode code points of the decoded note text (the unit this service publishes).
    const offset = codePointIndex(note, e.start);
    const length = codePointIndex(note, e.end) - offset;
    return {
      url: DERIVATION_REFERENCE_EXTENSION,
      extension: [
        { url: 'reference', valueReference: documentReferenceOf(note.source) },
        { url: 'path', valueString: `DocumentReference.content[${note.source.contentIndex}].attachment` },
        { url: 'offset', valueInteger: offset },
        { url: 'length', valueInteger: length },
      ],
    };
  });
  const documents = suggestion.notes.map((n) => documentReferenceOf(ctx.notes[n].source));
  const refines = suggestion.refines ?? [];
  const related: Extension[] = refines.map((r) => ({ url: CONDITION_RELATED_EXTENSION, valueReference: recordedReferenceOf(r) }));
  return {
    resourceType: 'Condition',
    meta: {
      profile: [SUGGESTED_CONDITION_PROFILE],
      security: [{ system: OBSERVATION_VALUE_SYSTEM, code: 'AIAST', display: 'Artificial Intelligence asserted' }],
    },
    extension: [{ url: CONFIDENCE_EXTENSION, valueDecimal: Number(suggestion.score.toFixed(4)) }, ...derivations, ...related],
    identifier: [{ system: URN_SYSTEM, value: `urn:uuid:${ctx.suggestionId}` }],
    verificationStatus: {
      coding: [{ system: CONDITION_VERIFICATION_SYSTEM, code: 'provisional', display: 'Provisional' }],
    },
    category: [{ coding: [{ system: CONDITION_CATEGORY_SYSTEM, code: 'encounter-diagnosis', display: 'Encounter Diagnosis' }] }],
    code: {
      coding: [
        {
          system: ICD10CM_SYSTEM,
          ...(ctx.model.codeSystemVersion ? { version: ctx.model.codeSystemVersion } : {}),
          code: suggestion.code,
          display: suggestion.display,
        },
      ],
      text: suggestion.display,
    },
    subject: ctx.subject,
    ...(ctx.encounter ? { encounter: ctx.encounter } : {}),
    evidence: [{ detail: documents }],
    note: [
      {
        text: `AI-suggested by ${escapeMarkdownInline(modelLabel)} with confidence ${confidenceText(suggestion.score)}; not reviewed by a clinician.`,
      },
      ...suggestion.evidence.map((e) => ({
        text: `Source text: "${escapeMarkdownInline(e.text)}" (${escapeMarkdownInline(describeContext(e.context))})`,
      })),
      ...(suggestion.indexPath ? [{ text: `Alphabetic Index path: ${escapeMarkdownInline(suggestion.indexPath.join(' → '))}` }] : []),
      ...(suggestion.guidance ?? []).map((g) => ({ text: `Coding guidance: ${escapeMarkdownInline(g)}` })),
      ...refines.map((r) => ({
        text: `Refines the recorded ${escapeMarkdownInline(recordedReferenceOf(r).display!)}${r.reference ? ` (${r.reference})` : ''}: ${suggestion.code} is more specific. The recorded Condition is left as is.`,
      })),
    ],
  };
}
