/**
 * What the page sends: a CDS Hooks 2.0 `encounter-discharge` request whose prefetch holds the
 * pasted note as a discharge-summary DocumentReference, and feedback bodies (§Feedback).
 * The page plays the EHR: the context names a demo patient and encounter, and the prefetch
 * answers the service's two templates (README "The CDS service"), so it needs no FHIR server.
 */

export const SERVICE_ID = 'icd10cm-suggestions';
export const DEMO_CONTEXT = { userId: 'Practitioner/review-page', patientId: 'demo-patient', encounterId: 'demo-encounter' } as const;
export const DOCUMENT_ID = 'review-note';
export const DOCUMENT_REF = `DocumentReference/${DOCUMENT_ID}`;

/** A random (version 4) uuid; crypto.randomUUID exists only in secure contexts (https or localhost). */
export function uuid(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Base64 of the UTF-8 bytes of `text` (FHIR Attachment.data). */
export function base64Utf8(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/**
 * The hook request for a note.
 * @param note - the note text exactly as shown (offsets in the answer point into it)
 * @param now - the document's date
 */
export function hookRequest(note: string, now: Date): object {
  const { userId, patientId, encounterId } = DEMO_CONTEXT;
  const document = {
    resourceType: 'DocumentReference',
    id: DOCUMENT_ID,
    status: 'current',
    docStatus: 'final',
    type: { coding: [{ system: 'http://loinc.org', code: '18842-5', display: 'Discharge summary' }] },
    subject: { reference: `Patient/${patientId}` },
    date: now.toISOString(),
    context: { encounter: [{ reference: `Encounter/${encounterId}` }] },
    content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: base64Utf8(note) } }],
  };
  return {
    hook: 'encounter-discharge',
    hookInstance: uuid(),
    context: { userId, patientId, encounterId },
    prefetch: {
      dischargeSummaries: { resourceType: 'Bundle', type: 'searchset', total: 1, entry: [{ resource: document, search: { mode: 'match' } }] },
      encounterConditions: { resourceType: 'Bundle', type: 'searchset', total: 0 },
    },
  };
}

export interface Reason {
  system: string;
  code: string;
  display?: string;
}

/**
 * CDS Hooks 2.0 §Feedback body for one card.
 * @param card - card.uuid
 * @param outcome - accepted (with the suggestion's uuid) or overridden (with an optional reason and comment)
 * @param now - when the user acted (outcomeTimestamp)
 */
export function feedbackBody(card: string, outcome: { accepted: string } | { overridden: { reason?: Reason; comment?: string } }, now: Date): object {
  const entry: Record<string, unknown> = { card, outcomeTimestamp: now.toISOString() };
  if ('accepted' in outcome) {
    entry.outcome = 'accepted';
    entry.acceptedSuggestions = [{ id: outcome.accepted }];
  } else {
    entry.outcome = 'overridden';
    const { reason, comment } = outcome.overridden;
    const overrideReason: Record<string, unknown> = {};
    if (reason) overrideReason.reason = { system: reason.system, code: reason.code, ...(reason.display ? { display: reason.display } : {}) };
    if (comment) overrideReason.userComment = comment;
    if (Object.keys(overrideReason).length > 0) entry.overrideReason = overrideReason;
  }
  return { feedback: [entry] };
}
