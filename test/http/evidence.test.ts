/**
 * Evidence and clinical context over HTTP, on every note fixture and request fixture:
 * - every Condition (FHIR Bundle entry or card action) carries derivation-reference offsets
 *   (code points into the decoded note) whose slice is exactly its quoted "Source text", and
 *   every card quotes the same slices;
 * - codes whose evidence is only negated, about a relative or hypothetical are not suggested,
 *   unless suppression is turned off, when they come back with their status.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Bundle, Condition, DocumentReference, Parameters } from '@medplum/fhirtypes';
import request from 'supertest';
import { escapeMarkdown, escapeMarkdownInline } from '../../src/fhir/markdown';
import { decodeAttachmentData } from '../../src/note/attachment';
import { createTestApp } from '../helpers/app';
import { codePointSlice, expectValidCds, expectValidFhir, resourcesOf } from '../helpers/expect-valid';
import { base64, documentReference, hookRequest, NOTES_DIR, parametersOf, searchset } from '../helpers/resources';

const DERIVATION = 'http://hl7.org/fhir/StructureDefinition/derivation-reference';
const REQUESTS = path.join(__dirname, '..', 'fixtures', 'requests');
const CONTENT_TYPES: Record<string, string> = {
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

/** Every note fixture as a DocumentReference of its media type. */
const noteDocuments: [string, DocumentReference][] = readdirSync(NOTES_DIR)
  .filter((f) => CONTENT_TYPES[path.extname(f)])
  .map((f) => [
    f,
    documentReference('', {
      id: path.basename(f, path.extname(f)),
      content: [{ attachment: { contentType: CONTENT_TYPES[path.extname(f)], data: base64(readFileSync(path.join(NOTES_DIR, f), 'utf8')) } }],
    }),
  ]);

/** Decoded text of each document of a request, by `DocumentReference/<id>` and content index. */
function decodedTexts(docs: readonly DocumentReference[]): Map<string, string> {
  const texts = new Map<string, string>();
  for (const doc of docs) {
    doc.content.forEach((c, i) => {
      if (c.attachment.data) {
        texts.set(`DocumentReference/${doc.id}#${i}`, decodeAttachmentData(c.attachment.data, c.attachment.contentType, { maxBytes: 1e7 }).text);
      }
    });
  }
  return texts;
}

/** The quoted slices of a Condition, checked against its Source text notes. */
function expectFaithfulCondition(condition: Condition, texts: Map<string, string>): string[] {
  const derivations = (condition.extension ?? []).filter((e) => e.url === DERIVATION);
  const quotes = (condition.note ?? []).map((n) => n.text).filter((t) => t.startsWith('Source text: '));
  expect(derivations.length).toBe(quotes.length);
  return derivations.map((d, k) => {
    const part = (url: string) => d.extension!.find((e) => e.url === url)!;
    const reference = part('reference').valueReference!.reference!;
    const contentIndex = /content\[(\d+)\]/.exec(part('path').valueString!)![1];
    const text = texts.get(`${reference}#${contentIndex}`)!;
    expect(text).toBeDefined();
    const slice = codePointSlice(text, part('offset').valueInteger!, part('length').valueInteger!);
    expect(slice.length).toBeGreaterThan(0);
    expect(slice).toBe(slice.trim());
    expect(quotes[k].startsWith(`Source text: "${escapeMarkdownInline(slice)}" (`)).toBe(true);
    return slice;
  });
}

async function viaFhir(docs: DocumentReference[], config = {}) {
  const { app } = await createTestApp(config);
  const res = await request(app)
    .post('/fhir/DocumentReference/$suggest-conditions')
    .set('Content-Type', 'application/fhir+json')
    .send(parametersOf(...docs));
  expect(res.status).toBe(200);
  expectValidFhir(res.body);
  return resourcesOf(res.body as Bundle).filter((r): r is Condition => r.resourceType === 'Condition');
}

async function viaCds(body: object, config = {}) {
  const { app } = await createTestApp(config);
  const res = await request(app).post('/cds-services/icd10cm-suggestions').send(body);
  expect(res.status).toBe(200);
  expectValidCds('response', res.body);
  return res.body.cards as { summary: string; detail: string; suggestions: { actions: { resource: Condition }[] }[] }[];
}

function expectFaithfulCards(cards: Awaited<ReturnType<typeof viaCds>>, texts: Map<string, string>) {
  for (const card of cards) {
    const slices = expectFaithfulCondition(card.suggestions[0].actions[0].resource, texts);
    for (const slice of slices) expect(card.detail).toContain(`> ${escapeMarkdown(slice)}`);
  }
}

describe.each(noteDocuments)('note fixture %s', (_file, doc) => {
  test('FHIR: every Condition quotes exactly the text at its offsets', async () => {
    const conditions = await viaFhir([doc]);
    expect(conditions.length).toBeGreaterThan(0);
    for (const c of conditions) expect(expectFaithfulCondition(c, decodedTexts([doc])).length).toBeGreaterThan(0);
  });

  test('CDS Hooks: every card quotes exactly the text at its offsets', async () => {
    const cards = await viaCds(hookRequest({ prefetch: { dischargeSummaries: searchset(doc), encounterConditions: searchset() } }));
    expect(cards.length).toBeGreaterThan(0);
    expectFaithfulCards(cards, decodedTexts([doc]));
  });
});

test('request fixtures: FHIR and CDS Hooks outputs quote exactly the text at their offsets', async () => {
  const parameters = JSON.parse(readFileSync(path.join(REQUESTS, 'suggest-conditions.json'), 'utf8')) as Parameters;
  const fhirDocs = parameters.parameter!.map((p) => p.resource as DocumentReference);
  const conditions = await viaFhir(fhirDocs);
  expect(conditions.length).toBeGreaterThan(0);
  for (const c of conditions) expectFaithfulCondition(c, decodedTexts(fhirDocs));

  const hook = JSON.parse(readFileSync(path.join(REQUESTS, 'encounter-discharge.json'), 'utf8'));
  const hookDocs = resourcesOf(hook.prefetch.dischargeSummaries) as DocumentReference[];
  const cards = await viaCds(hook);
  expect(cards.length).toBeGreaterThan(0);
  expectFaithfulCards(cards, decodedTexts(hookDocs));
});

describe('assertion status (test/fixtures/notes/context.txt)', () => {
  const doc = noteDocuments.find(([f]) => f === 'context.txt')![1];
  const codesOf = (conditions: Condition[]) => conditions.map((c) => c.code!.coding![0].code);

  test('negated, family and hypothetical-only codes are not suggested; historical ones are, marked', async () => {
    const conditions = await viaFhir([doc]);
    // Anemia: present in the discharge diagnoses, so first; hyperlipidemia and hypertension
    // (equal scores, so in code order): past medical history. Not: pneumonia ("No evidence of"), diabetes ("denies"), COPD
    // (family history), urinary tract infection ("Return if … develop").
    expect(codesOf(conditions)).toEqual(['D64.9', 'E78.5', 'I10']);
    const noteOf = (code: string) =>
      conditions
        .find((c) => c.code!.coding![0].code === code)!
        .note!.map((n) => n.text)
        .join('\n');
    expect(noteOf('D64.9')).toContain('(present, section "DISCHARGE DIAGNOSES")');
    expect(noteOf('I10')).toContain('(historical (by its section), section "PAST MEDICAL HISTORY")');
  });

  test('with SUPPRESS_ASSERTIONS=none the same codes come back with their status on the card', async () => {
    const cards = await viaCds(hookRequest({ prefetch: { dischargeSummaries: searchset(doc), encounterConditions: searchset() } }), { suppressAssertions: [] });
    const byCode = new Map(cards.map((c) => [c.suggestions[0].actions[0].resource.code!.coding![0].code!, c]));
    expect([...byCode.keys()].sort()).toEqual(['D64.9', 'E11.9', 'E78.5', 'I10', 'J18.9', 'J44.9', 'N39.0'].sort());
    expect(byCode.get('J18.9')!.summary).toMatch(/, negated\)$/);
    expect(byCode.get('J18.9')!.detail).toContain('_negated ("No evidence of"), section "HISTORY OF PRESENT ILLNESS"_');
    expect(byCode.get('E11.9')!.summary).toMatch(/, negated\)$/);
    expect(byCode.get('J44.9')!.summary).toMatch(/, family\)$/);
    expect(byCode.get('N39.0')!.summary).toMatch(/, hypothetical\)$/);
    expect(byCode.get('I10')!.summary).toMatch(/, historical\)$/);
    expect(byCode.get('D64.9')!.summary).toMatch(/confidence\)$/);
  });
});
