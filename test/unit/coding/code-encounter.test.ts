/**
 * The one encounter-coding use case, called without any HTTP (as bulk jobs call it): the
 * analysis, the delta against recorded codes, the caller's presentation and exactly one audit
 * record per call; analysis failures a retry may cure become 503 `transient` here.
 */
import { AnalysisQueueFullError, inlineAnalyzer, type Analyzer } from '../../../src/analysis/analyzer';
import { createSuggestionService } from '../../../src/analysis/suggestions';
import { codeEncounter, type CodingDeps, type EncounterInput } from '../../../src/coding/code-encounter';
import { OperationOutcomeError } from '../../../src/errors';
import { createLogger } from '../../../src/log';
import { openSqliteStore } from '../../../src/store/sqlite';
import type { Store } from '../../../src/store/store';
import { codingRules, FIXED_NOW, tinyClassifier } from '../../helpers/app';
import { SAMPLE_NOTE } from '../../helpers/resources';

const note = { text: SAMPLE_NOTE, source: { reference: 'DocumentReference/1', display: 'Discharge summary', contentIndex: 0, contentType: 'text/plain' } };
const call = { requestId: 'r-1', edge: 'fhir' as const, service: 'bulk', callId: 'job-1/doc-1', patient: 'Patient/1' };

let store: Store;
afterEach(() => store.close());

async function depsWith(analyzer?: Analyzer): Promise<CodingDeps> {
  store = openSqliteStore(':memory:');
  const log = createLogger('silent');
  const used = analyzer ?? inlineAnalyzer(await tinyClassifier());
  const suggestions = createSuggestionService({ analyzer: used, store, log, suppress: ['negated', 'family', 'hypothetical'], cache: false, cacheTtlHours: 1 });
  return { suggestions, store, log, model: used.info, now: () => FIXED_NOW, ...(await codingRules()) };
}

const input = (overrides: Partial<EncounterInput> = {}): EncounterInput => ({ notes: [note], recorded: { codes: [], known: true }, call, ...overrides });

test('codes the notes, hands the result to the presentation, and audits it once with the ids shown', async () => {
  const deps = await depsWith();
  const codes = await codeEncounter(deps, input(), (coding) => {
    if (coding.status !== 'coded') throw new Error(coding.status);
    return { output: coding.suggestions.map((s) => s.code), shown: coding.suggestions.map((_s, i) => ({ suggestionId: `s-${i}` })) };
  });
  expect(codes.length).toBeGreaterThan(0);
  const records = await store.auditRecords();
  expect(records).toHaveLength(1);
  expect(records[0]).toMatchObject({ requestId: 'r-1', callId: 'job-1/doc-1', outcome: 'suggestions', patient: 'Patient/1' });
  expect(records[0].suggestions.map((s) => s.code)).toEqual(codes);
  expect(records[0].suggestions.map((s) => s.suggestionId)).toEqual(codes.map((_c, i) => `s-${i}`));
});

test('codes already recorded are dropped (delta coding)', async () => {
  const deps = await depsWith();
  const all = await codeEncounter(deps, input(), (c) => {
    if (c.status !== 'coded') throw new Error(c.status);
    return { output: c.suggestions.map((s) => s.code), shown: c.suggestions.map((_s, i) => ({ suggestionId: `a-${i}` })) };
  });
  const recorded = { codes: [{ code: all[0], reference: 'Condition/9' }], known: true };
  const dropped = await codeEncounter(deps, input({ recorded }), (c) => {
    if (c.status !== 'coded') throw new Error(c.status);
    return { output: c, shown: c.suggestions.map((_s, i) => ({ suggestionId: `d-${i}` })) };
  });
  expect(dropped.suggestions.map((s) => s.code)).not.toContain(all[0]);
  expect(dropped.dropped).toEqual([{ code: all[0], reason: 'recorded', recorded: recorded.codes[0] }]);
});

test('no note: nothing is analysed, and the call is audited as no-document', async () => {
  const deps = await depsWith();
  const status = await codeEncounter(deps, input({ notes: [] }), (c) => ({ output: c.status, shown: [] }));
  expect(status).toBe('no-document');
  expect((await store.auditRecords())[0]).toMatchObject({ outcome: 'no-document', documents: [], suggestions: [] });
});

test('a full analysis queue is 503 transient, and nothing is audited', async () => {
  const classifier = await tinyClassifier();
  const full: Analyzer = { info: classifier.info, analyze: () => Promise.reject(new AnalysisQueueFullError(0)), dispose: async () => {} };
  const deps = await depsWith(full);
  const error = await codeEncounter(deps, input(), () => ({ output: null, shown: [] })).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(OperationOutcomeError);
  expect((error as OperationOutcomeError).status).toBe(503);
  expect((error as OperationOutcomeError).outcome.issue[0].code).toBe('transient');
  expect(await store.auditRecords()).toEqual([]);
});
