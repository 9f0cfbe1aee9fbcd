/**
 * CDS Hooks 2.0 wire checks: the spec's own examples must pass, hand-made negatives must fail
 * with a message naming the problem. Fixtures are the verbatim spec examples in
 * test/fixtures/cds-hooks/spec-2.0.1 (see SOURCE.md there).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateCds, type CdsWireKind } from '../../../src/cds/wire-checks';

const FIXTURES = join(__dirname, '../../fixtures/cds-hooks/spec-2.0.1');

/** A parsed spec example (a fresh copy on every call, so tests may mutate it). */
function spec(name: string): any {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));
}

/** A valid card exercising suggestions and actions, modified per negative case. */
function card(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    uuid: '0d6c8d3e-4b8a-4f6e-9d0a-2f6f4a1c9b11',
    summary: 'ICD-10-CM E11.9 suggested: Type 2 diabetes mellitus without complications (87%)',
    indicator: 'info',
    source: { label: 'ICD-10-CM Coding Assistant (AI)' },
    selectionBehavior: 'at-most-one',
    suggestions: [
      {
        label: 'Add E11.9 as provisional encounter diagnosis',
        uuid: '6f1d3c2a-9e4b-4c1d-8a7f-0b2e3d4c5a61',
        isRecommended: true,
        actions: [
          {
            type: 'create',
            description: 'Create a provisional Condition E11.9',
            resource: { resourceType: 'Condition', subject: { reference: 'Patient/1288992' } },
          },
        ],
      },
    ],
    ...overrides,
  };
}

const response = (...cards: unknown[]) => ({ cards });

const request = (overrides: Record<string, unknown> = {}) => ({
  hook: 'encounter-discharge',
  hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
  context: { userId: 'PractitionerRole/A2340113', patientId: '1288992', encounterId: '456' },
  ...overrides,
});

describe('spec examples pass their schema', () => {
  const cases: Array<[CdsWireKind, string]> = [
    ['discovery', 'discovery-response.json'],
    ['discovery', 'discovery-response-with-extension.json'],
    ['request', 'request-patient-view.json'],
    ['request', 'request-with-extension-missing-patientId.json'], // generic request: context is hook-specific
    ['response', 'response-no-guidance.json'],
    ['response', 'response-cards-links-overridereasons.json'],
    ['feedback', 'feedback-accepted.json'],
    ['feedback', 'feedback-overridden.json'],
    ['feedback', 'feedback-overridden-with-reason.json'],
  ];
  it.each(cases)('%s: %s', (kind, file) => {
    expect(validateCds(kind, spec(file))).toEqual([]);
  });

  it('fragments pass once embedded: source, overrideReasons, fhirAuthorization, prefetch templates', () => {
    const withFragments = response({
      summary: 'Zika',
      indicator: 'info',
      ...spec('source-example.json'),
      ...spec('overrideReasons-example.json'),
    });
    expect(validateCds('response', withFragments)).toEqual([]);

    const withToken = request({ fhirServer: 'https://ehr.example.org/fhir', ...spec('fhirAuthorization-example.json') });
    expect(validateCds('request', withToken)).toEqual([]);

    const discovery = {
      services: [{ hook: 'patient-view', id: 'p', description: 'd', ...spec('prefetch-templates-example.json') }],
    };
    expect(validateCds('discovery', discovery)).toEqual([]);
  });

  it('response-autolaunchable.json fails only on the missing REQUIRED card indicator (defect in the spec example)', () => {
    const example = spec('response-autolaunchable.json');
    expect(validateCds('response', example)).toEqual(["/cards/0 must have required property 'indicator'"]);
    example.cards[0].indicator = 'info';
    expect(validateCds('response', example)).toEqual([]);
  });

  it('the spec request contexts are valid encounter-discharge contexts; the extension example is not', () => {
    expect(validateCds('encounterDischargeContext', spec('request-patient-view.json').context)).toEqual([]);
    expect(validateCds('encounterDischargeContext', request().context)).toEqual([]);
    expect(validateCds('encounterDischargeContext', spec('request-with-extension-missing-patientId.json').context)).toEqual([
      "(root) must have required property 'patientId'",
      "(root) must have required property 'encounterId'",
    ]);
  });
});

describe('our own builders pass', () => {
  it.each<[string, CdsWireKind, unknown]>([
    ['a coding card with a create action', 'response', response(card())],
    [
      'several recommended suggestions with selectionBehavior any',
      'response',
      response(
        card({
          selectionBehavior: 'any',
          suggestions: [
            { label: 'a', isRecommended: true },
            { label: 'b', isRecommended: true },
          ],
        }),
      ),
    ],
    ['a summary of 139 characters', 'response', response(card({ summary: 'x'.repeat(139) }))],
    ['a summary of 139 astral code points (278 UTF-16 units)', 'response', response(card({ summary: '😀'.repeat(139) }))],
    [
      'appContext on a smart link',
      'response',
      response(card({ links: [{ label: 'Review', url: 'https://app.example.org/launch', type: 'smart', appContext: 'x' }] })),
    ],
    [
      'a delete system action without description',
      'response',
      { cards: [], systemActions: [{ type: 'delete', resourceId: 'ServiceRequest/procedure-request-1' }] },
    ],
    ['an empty discovery document', 'discovery', { services: [] }],
    ['a request whose prefetch value is null (client has no data)', 'request', request({ prefetch: { dischargeSummaries: null } })],
    ['a request with an empty prefetch object (tolerated from clients)', 'request', request({ prefetch: {} })],
    ['a request with an unknown top-level property (tolerated)', 'request', request({ 'com.example.x': 1 })],
    ['a context with an extra property (tolerated)', 'encounterDischargeContext', { ...request().context, extension: { 'org.example.a': 1 } }],
    [
      'feedback with a +02:00 offset and fractional seconds',
      'feedback',
      { feedback: [{ card: 'c', outcome: 'overridden', outcomeTimestamp: '1985-04-12T23:20:50.52+02:00' }] },
    ],
  ])('%s', (_name, kind, body) => {
    expect(validateCds(kind, body)).toEqual([]);
  });
});

describe('negatives fail with a message', () => {
  const cases: Array<[string, CdsWireKind, unknown, RegExp]> = [
    // Cards (CDS Hooks 2.0 §Card Attributes and below)
    ['summary of 140 characters', 'response', response(card({ summary: 'x'.repeat(140) })), /^\/cards\/0\/summary must NOT have more than 139 characters$/],
    [
      'summary of 140 astral code points',
      'response',
      response(card({ summary: '😀'.repeat(140) })),
      /^\/cards\/0\/summary must NOT have more than 139 characters$/,
    ],
    [
      'indicator "success" (pre-1.0 value)',
      'response',
      response(card({ indicator: 'success' })),
      /^\/cards\/0\/indicator must be one of "info", "warning", "critical"$/,
    ],
    ['card without source', 'response', response(card({ source: undefined })), /^\/cards\/0 must have required property 'source'$/],
    [
      'suggestions without selectionBehavior',
      'response',
      response(card({ selectionBehavior: undefined })),
      /^\/cards\/0 must have property selectionBehavior when property suggestions is present$/,
    ],
    [
      'unknown selectionBehavior',
      'response',
      response(card({ selectionBehavior: 'all' })),
      /^\/cards\/0\/selectionBehavior must be one of "at-most-one", "any"$/,
    ],
    [
      'two isRecommended with at-most-one',
      'response',
      response(
        card({
          suggestions: [
            { label: 'a', isRecommended: true },
            { label: 'b', isRecommended: true },
          ],
        }),
      ),
      /^\/cards\/0\/suggestions has 2 suggestions with isRecommended: true; selectionBehavior "at-most-one" allows at most one/,
    ],
    [
      'overrideReasons without display',
      'response',
      response(card({ overrideReasons: [{ code: 'not-documented', system: 'https://icd10-cds/override-reasons' }] })),
      /^\/cards\/0\/overrideReasons\/0 must have required property 'display'$/,
    ],
    [
      'appContext on an absolute link',
      'response',
      response(card({ links: [{ label: 'More', url: 'https://example.org', type: 'absolute', appContext: '{"a":1}' }] })),
      /^\/cards\/0\/links\/0\/appContext is only valid on links of type "smart" \(type is "absolute"\)/,
    ],
    [
      'relative link url',
      'response',
      response(card({ links: [{ label: 'More', url: '/more', type: 'absolute' }] })),
      /^\/cards\/0\/links\/0\/url must match pattern/,
    ],
    [
      'create action without resource',
      'response',
      response(card({ suggestions: [{ label: 'a', actions: [{ type: 'create', description: 'Create it' }] }] })),
      /^\/cards\/0\/suggestions\/0\/actions\/0 must have required property 'resource'$/,
    ],
    [
      'suggestion action without description',
      'response',
      response(card({ suggestions: [{ label: 'a', actions: [{ type: 'delete', resourceId: 'Condition/1' }] }] })),
      /^\/cards\/0\/suggestions\/0\/actions\/0 must have required property 'description'$/,
    ],
    [
      '3.0-ballot field actionSelectionBehavior on a 2.0 suggestion',
      'response',
      response(card({ suggestions: [{ label: 'a', actionSelectionBehavior: 'all' }] })),
      /^\/cards\/0\/suggestions\/0 must NOT have additional property 'actionSelectionBehavior'$/,
    ],
    // §Use of JSON (our outputs only)
    ['"detail": ""', 'response', response(card({ detail: '' })), /^\/cards\/0\/detail must not be an empty string \(CDS Hooks 2.0 §Use of JSON\)$/],
    ['"detail": null', 'response', response(card({ detail: null })), /^\/cards\/0\/detail must not be null \(CDS Hooks 2.0 §Use of JSON\)$/],
    ['empty suggestions array', 'response', response(card({ suggestions: [] })), /^\/cards\/0\/suggestions must not be an empty array/],
    [
      'empty object inside a FHIR resource in an action',
      'response',
      response(card({ suggestions: [{ label: 'a', actions: [{ type: 'create', description: 'd', resource: { resourceType: 'Condition', code: {} } }] }] })),
      /^\/cards\/0\/suggestions\/0\/actions\/0\/resource\/code must not be an empty object/,
    ],
    ['empty extension object', 'response', { cards: [], extension: {} }, /^\/extension must not be an empty object/],
    ['null body', 'response', null, /^\(root\) must not be null/],
    // Discovery
    [
      'discovery service without description',
      'discovery',
      { services: [{ hook: 'encounter-discharge', id: 'x' }] },
      /^\/services\/0 must have required property 'description'$/,
    ],
    [
      '3.0-ballot field version in a 2.0 discovery service',
      'discovery',
      { services: [{ hook: 'encounter-discharge', id: 'x', description: 'd', version: 'STU2' }] },
      /^\/services\/0 must NOT have additional property 'version'$/,
    ],
    [
      'discovery prefetch template that is not a string',
      'discovery',
      { services: [{ hook: 'encounter-discharge', id: 'x', description: 'd', prefetch: { patient: { a: 1 } } }] },
      /^\/services\/0\/prefetch\/patient must be string$/,
    ],
    // Requests
    ['request without hookInstance', 'request', request({ hookInstance: undefined }), /^\(root\) must have required property 'hookInstance'$/],
    ['request without context', 'request', request({ context: undefined }), /^\(root\) must have required property 'context'$/],
    [
      'fhirAuthorization.token_type "bearer"',
      'request',
      request({
        fhirServer: 'https://ehr.example.org/fhir',
        fhirAuthorization: { ...spec('fhirAuthorization-example.json').fhirAuthorization, token_type: 'bearer' },
      }),
      /^\/fhirAuthorization\/token_type must be "Bearer"$/,
    ],
    [
      'fhirAuthorization.expires_in not an integer',
      'request',
      request({
        fhirServer: 'https://ehr.example.org/fhir',
        fhirAuthorization: { ...spec('fhirAuthorization-example.json').fhirAuthorization, expires_in: '300' },
      }),
      /^\/fhirAuthorization\/expires_in must be integer$/,
    ],
    [
      'fhirAuthorization without fhirServer',
      'request',
      request(spec('fhirAuthorization-example.json')),
      /^\(root\) must have property fhirServer when property fhirAuthorization is present$/,
    ],
    ['fhirServer that is not an http(s) URL', 'request', request({ fhirServer: 'ehr.example.org' }), /^\/fhirServer must match pattern/],
    // encounter-discharge context (CDS Hooks Library encounter-discharge)
    [
      'context missing encounterId',
      'encounterDischargeContext',
      { userId: 'Practitioner/1', patientId: '1' },
      /^\(root\) must have required property 'encounterId'$/,
    ],
    ['userId "Patient/1"', 'encounterDischargeContext', { userId: 'Patient/1', patientId: '1', encounterId: '2' }, /^\/userId must match pattern/],
    [
      'patientId that is not a FHIR id',
      'encounterDischargeContext',
      { userId: 'Practitioner/1', patientId: 'Patient/1', encounterId: '2' },
      /^\/patientId must match pattern/,
    ],
    [
      'encounterId longer than 64 characters',
      'encounterDischargeContext',
      { userId: 'Practitioner/1', patientId: '1', encounterId: 'e'.repeat(65) },
      /^\/encounterId must match pattern/,
    ],
    // Feedback (CDS Hooks 2.0 §Feedback)
    [
      'feedback accepted without acceptedSuggestions',
      'feedback',
      { feedback: [{ card: 'c', outcome: 'accepted', outcomeTimestamp: '2021-12-11T10:05:31Z' }] },
      /^\/feedback\/0 must have required property 'acceptedSuggestions'$/,
    ],
    [
      'feedback accepted with empty acceptedSuggestions',
      'feedback',
      { feedback: [{ card: 'c', outcome: 'accepted', acceptedSuggestions: [], outcomeTimestamp: '2021-12-11T10:05:31Z' }] },
      /^\/feedback\/0\/acceptedSuggestions must NOT have fewer than 1 items$/,
    ],
    [
      'feedback outcome "ignored"',
      'feedback',
      { feedback: [{ card: 'c', outcome: 'ignored', outcomeTimestamp: '2021-12-11T10:05:31Z' }] },
      /^\/feedback\/0\/outcome must be one of "accepted", "overridden"$/,
    ],
    [
      'feedback outcomeTimestamp without time',
      'feedback',
      { feedback: [{ card: 'c', outcome: 'overridden', outcomeTimestamp: '2021-12-11' }] },
      /^\/feedback\/0\/outcomeTimestamp must match pattern/,
    ],
    [
      'feedback override reason Coding without system',
      'feedback',
      { feedback: [{ card: 'c', outcome: 'overridden', overrideReason: { reason: { code: 'x' } }, outcomeTimestamp: '2021-12-11T10:05:31Z' }] },
      /^\/feedback\/0\/overrideReason\/reason must have required property 'system'$/,
    ],
  ];

  it.each(cases)('%s', (_name, kind, body, expected) => {
    const errors = validateCds(kind, JSON.parse(JSON.stringify(body ?? null)));
    expect(errors).toContainEqual(expect.stringMatching(expected));
  });

  it('reports a null/empty value once, not again as a schema error', () => {
    expect(validateCds('response', response(card({ detail: '' })))).toEqual(['/cards/0/detail must not be an empty string (CDS Hooks 2.0 §Use of JSON)']);
  });

  it('does not apply the null/empty walk to client input', () => {
    const feedback = spec('feedback-overridden-with-reason.json');
    feedback.feedback[0].overrideReason.userComment = '';
    expect(validateCds('feedback', feedback)).toEqual([]);
  });
});
