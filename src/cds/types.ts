/**
 * CDS Hooks 2.0 wire types (https://cds-hooks.hl7.org/2.0/), written from the spec's tables;
 * each field's comment paraphrases the spec. Runtime checks: wire-checks.ts and schemas/.
 */
import type { Condition } from '@medplum/fhirtypes';

/** §Discovery: one entry of `{"services": [...]}`. */
export interface CdsServiceDefinition {
  /** The hook this service should be invoked on. */
  hook: string;
  /** Human-friendly name of the service (RECOMMENDED). */
  title: string;
  /** Description of the service (REQUIRED). */
  description: string;
  /** `{id}` in `{baseUrl}/cds-services/{id}` (REQUIRED). */
  id: string;
  /** Key/value pairs of FHIR queries the service asks the client to prefetch. */
  prefetch?: Record<string, string>;
  /** Human-friendly description of pre-requisites, e.g. authorization or configuration. */
  usageRequirements?: string;
}

/** §FHIR Resource Access: the OAuth 2.0 access token the client shares. */
export interface FhirAuthorization {
  access_token: string;
  /** Fixed value: Bearer. */
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  /** The OAuth 2.0 client identifier of the CDS Service. */
  subject: string;
  /** The patient the token is scoped to, when scopes are patient/. */
  patient?: string;
}

/** §HTTP Request: the body of `POST {baseUrl}/cds-services/{id}`. */
export interface HookRequest<C = Record<string, unknown>> {
  /** The hook that triggered this CDS Service call. */
  hook: string;
  /** A universally unique identifier for this particular hook call. */
  hookInstance: string;
  /** Base URL of the CDS Client's FHIR server; REQUIRED if fhirAuthorization is present. */
  fhirServer?: string;
  fhirAuthorization?: FhirAuthorization;
  /** Hook-specific contextual data. */
  context: C;
  /** FHIR data prefetched by the client, by the keys of the service's prefetch templates;
   * `null` when the client has no data for a key. */
  prefetch?: Record<string, unknown>;
}

/** encounter-discharge (CDS Hooks Library 1.0) context. */
export interface EncounterDischargeContext {
  /** The id of the current user: Practitioner/123 or PractitionerRole/123. */
  userId: string;
  /** The FHIR Patient.id of the patient being discharged. */
  patientId: string;
  /** The FHIR Encounter.id of the encounter being ended. */
  encounterId: string;
}

/** §Coding */
export interface Coding {
  system: string;
  code: string;
  /** REQUIRED for overrideReasons. */
  display?: string;
}

/** §Source: the primary source of guidance for the decision support a card provides. */
export interface CardSource {
  label: string;
  url?: string;
  icon?: string;
  topic?: Coding;
}

/** §Action. This service only ever creates (never updates or deletes). */
export interface CardAction {
  type: 'create';
  description: string;
  resource: Condition;
}

/** §Suggestion: a suggested set of changes; accepted as a whole. */
export interface CardSuggestion {
  label: string;
  /** Identifies the suggestion in feedback (acceptedSuggestions). */
  uuid: string;
  isRecommended?: boolean;
  actions: CardAction[];
}

/** §Card Attributes. */
export interface Card {
  /** SHALL be included in any feedback about this card. */
  uuid: string;
  /** One-sentence, <140-character summary. */
  summary: string;
  /** Optional GitHub-Flavored Markdown detail. */
  detail?: string;
  indicator: 'info' | 'warning' | 'critical';
  source: CardSource;
  suggestions?: CardSuggestion[];
  /** MUST be present when suggestions are. */
  selectionBehavior?: 'at-most-one' | 'any';
  /** Reasons a user may give for overriding the card; `display` MUST be populated. */
  overrideReasons?: Coding[];
}

/** §HTTP Response. `systemActions` is deliberately absent: this service never emits it. */
export interface HookResponse {
  cards: Card[];
}

/** §Feedback: one entry of `{"feedback": [...]}`. */
export interface Feedback {
  card: string;
  outcome: 'accepted' | 'overridden';
  acceptedSuggestions?: { id: string }[];
  overrideReason?: { reason?: Coding; userComment?: string };
  outcomeTimestamp: string;
}
