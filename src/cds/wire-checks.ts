/**
 * Validation of CDS Hooks 2.0 wire shapes against the project's hand-written JSON Schemas
 * (`./schemas/*.json`; no official schema exists, standards §6.4), plus the invariants that
 * draft-07 JSON Schema cannot express.
 *
 * Strict on what we send, tolerant on what we receive: the null/empty walk and the card
 * invariants run only on our own outputs (discovery document, service response); requests
 * and feedback come from CDS Clients and get their schema only.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import discoverySchema from './schemas/discovery-response.json';
import requestSchema from './schemas/request.json';
import encounterDischargeContextSchema from './schemas/encounter-discharge-context.json';
import responseSchema from './schemas/response.json';
import feedbackSchema from './schemas/feedback.json';

/** The CDS Hooks 2.0 bodies we can check. */
export type CdsWireKind = 'discovery' | 'request' | 'encounterDischargeContext' | 'response' | 'feedback';

// allErrors: report every problem, not only the first. `format` is never used (no ajv-formats).
const ajv = new Ajv({ allErrors: true });

/** Each schema compiled once, at module load (a broken schema fails fast). */
const validators: Record<CdsWireKind, ValidateFunction> = {
  discovery: ajv.compile(discoverySchema),
  request: ajv.compile(requestSchema),
  encounterDischargeContext: ajv.compile(encounterDischargeContextSchema),
  response: ajv.compile(responseSchema),
  feedback: ajv.compile(feedbackSchema),
};

/** Our outputs, and the one place in each where an empty array is allowed (JSON pointer). */
const STRICT_OUTPUTS: Partial<Record<CdsWireKind, string>> = {
  response: '/cards', // CDS Hooks 2.0 §HTTP Response: `{"cards": []}` = no guidance
  discovery: '/services', // CDS Hooks 2.0 §Discovery: a server with no services returns `[]`
};

/**
 * Validates a CDS Hooks 2.0 body.
 *
 * - `discovery`: `GET /cds-services` response (ours; strict).
 * - `request`: service call body, any hook (from clients).
 * - `encounterDischargeContext`: the `context` of an `encounter-discharge` request.
 * - `response`: service response with cards (ours; strict).
 * - `feedback`: feedback body (from clients).
 *
 * @param kind - which wire shape `body` is
 * @param body - the parsed JSON body
 * @returns human-readable messages, each `<JSON pointer> <problem>`; empty when valid
 */
export function validateCds(kind: CdsWireKind, body: unknown): string[] {
  const messages: string[] = [];
  const flagged = new Set<string>();

  const allowEmptyAt = STRICT_OUTPUTS[kind];
  if (allowEmptyAt !== undefined) {
    for (const [path, problem] of findNullOrEmpty(body, '', allowEmptyAt)) {
      flagged.add(path);
      messages.push(`${pointer(path)} ${problem} (CDS Hooks 2.0 §Use of JSON)`);
    }
  }

  const validate = validators[kind];
  if (!validate(body)) {
    for (const error of validate.errors ?? []) {
      // The walk already explained null/empty values at this path; skip ajv's echo of it.
      if (flagged.has(error.instancePath)) continue;
      const message = formatAjvError(error);
      if (message !== undefined) messages.push(message);
    }
  }

  if (kind === 'response') messages.push(...checkCards(body));
  return messages;
}

/** `""` → `(root)`, otherwise the pointer itself. */
function pointer(path: string): string {
  return path === '' ? '(root)' : path;
}

/** One ajv error as `<pointer> <message>`; undefined for noise (the `if` wrapper error). */
function formatAjvError(error: ErrorObject): string | undefined {
  const at = pointer(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'if':
      return undefined; // always accompanied by the failing `then` keyword's own error
    case 'additionalProperties':
      return `${at} must NOT have additional property '${String(params.additionalProperty)}'`;
    case 'enum':
      return `${at} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `${at} must be ${JSON.stringify(params.allowedValue)}`;
    default:
      return `${at} ${error.message ?? 'is invalid'}`;
  }
}

/**
 * Finds `null`, `""`, `[]` and `{}` anywhere in `value` (CDS Hooks 2.0 §Use of JSON: "JSON
 * elements SHALL NOT be null / empty, unless otherwise specified"), except an empty array at
 * `allowEmptyAt`. Descends into FHIR resources and extension values too (FHIR JSON forbids
 * empty values as well).
 */
function findNullOrEmpty(value: unknown, path: string, allowEmptyAt: string): Array<[string, string]> {
  if (value === null) return [[path, 'must not be null']];
  if (value === '') return [[path, 'must not be an empty string']];
  if (Array.isArray(value)) {
    if (value.length === 0) return path === allowEmptyAt ? [] : [[path, 'must not be an empty array']];
    return value.flatMap((item, i) => findNullOrEmpty(item, `${path}/${i}`, allowEmptyAt));
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return [[path, 'must not be an empty object']];
    return entries.flatMap(([key, item]) => findNullOrEmpty(item, `${path}/${escapePointer(key)}`, allowEmptyAt));
  }
  return [];
}

/** RFC 6901 escaping of one reference token. */
function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Card rules draft-07 JSON Schema cannot express (or not with a usable message). Written
 * defensively: `body` may be anything, its shape errors are reported by the schema.
 */
function checkCards(body: unknown): string[] {
  const messages: string[] = [];
  const cards = isObject(body) && Array.isArray(body.cards) ? body.cards : [];
  cards.forEach((card, c) => {
    if (!isObject(card)) return;
    const at = `/cards/${c}`;

    // CDS Hooks 2.0 §Suggestion isRecommended: "Multiple suggestions MAY be recommended, if
    // card.selectionBehavior is any" => with at-most-one, at most one (3.0 ballot cds-resp-1).
    if (card.selectionBehavior === 'at-most-one' && Array.isArray(card.suggestions)) {
      const recommended = card.suggestions.filter((s) => isObject(s) && s.isRecommended === true).length;
      if (recommended > 1) {
        messages.push(
          `${at}/suggestions has ${recommended} suggestions with isRecommended: true; selectionBehavior "at-most-one" allows at most one (CDS Hooks 2.0 §Suggestion)`,
        );
      }
    }

    // CDS Hooks 2.0 §Link appContext: "should only be valued if the link type is smart and is
    // not valid for absolute links".
    if (Array.isArray(card.links)) {
      card.links.forEach((link, l) => {
        if (isObject(link) && link.appContext !== undefined && link.type !== 'smart') {
          messages.push(`${at}/links/${l}/appContext is only valid on links of type "smart" (type is ${JSON.stringify(link.type)}) (CDS Hooks 2.0 §Link)`);
        }
      });
    }
  });
  return messages;
}
